"""``parkbrain`` commands of the park assistant (evaluation), registered on the group in ``parkbrain.cli``.

Parse, call ``Park``, format: the rules are in ``parkbrain.ai``.
"""

from __future__ import annotations
