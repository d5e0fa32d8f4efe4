"""The AI layer: the park assistant (semantic layer, offline engine, LLM path), policy Q&A and matching,
and the assistant's evaluation. Uses ``model`` and the ``Store`` interface; never ``api``, ``cli`` or
``web``. Optional LLM clients are imported inside their own module.
"""
