"""Park methods of policy documents: Q&A with citations and 惠企政策匹配 (mixed into ``core.Park``).
Computations are in ``parkbrain.ai.policy*``.
"""

from __future__ import annotations


class PolicyFacet:
    """Policy documents, retrieval and eligibility matching of ``Park``."""
