"""Park methods behind the web console's pages (mixed into ``core.Park``)."""

from __future__ import annotations


class ConsoleFacet:
    """Console overviews of ``Park``: province, park and enterprise views read from rollups."""
