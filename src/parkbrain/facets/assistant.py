"""Park methods of the park assistant (mixed into ``core.Park``): questions over the semantic layer,
policy Q&A and policy matching. Computations are in ``parkbrain.ai``; reads go through the caller's scope.
"""

from __future__ import annotations


class AssistantFacet:
    """The park assistant of ``Park``."""
