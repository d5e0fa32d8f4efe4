"""Facets of ``Park``: groups of its methods, one module per capability, mixed into ``Park``.

Each facet is a plain class whose methods use ``self.store``, ``self.scope``, ``self.require`` and the
other members of ``Park``; ``core.Park`` inherits them all, so the CLI, the API and the tests still
build one object. A facet computes through ``analytics/`` (``compute_*``) and never imports ``api``,
``cli`` or ``core`` at module level.
"""

from parkbrain.facets.air import AirFacet
from parkbrain.facets.assistant import AssistantFacet
from parkbrain.facets.console import ConsoleFacet
from parkbrain.facets.energy import EnergyFacet
from parkbrain.facets.health import HealthFacet
from parkbrain.facets.operations import OperationsFacet
from parkbrain.facets.policy import PolicyFacet

__all__ = [
    "AirFacet",
    "AssistantFacet",
    "ConsoleFacet",
    "EnergyFacet",
    "HealthFacet",
    "OperationsFacet",
    "PolicyFacet",
]
