"""Park methods for energy (mixed into ``core.Park``)."""

from __future__ import annotations


class EnergyFacet:
    """energy methods of ``Park``."""
