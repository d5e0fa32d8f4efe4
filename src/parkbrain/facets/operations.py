"""Park methods for operations (mixed into ``core.Park``)."""

from __future__ import annotations


class OperationsFacet:
    """operations methods of ``Park``."""
