"""Park methods for air (mixed into ``core.Park``)."""

from __future__ import annotations


class AirFacet:
    """air methods of ``Park``."""
