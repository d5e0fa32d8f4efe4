"""Park methods behind the web console's pages (mixed into ``core.Park``).

Every read goes through the caller's scope: the province sees every park, a park role and an
enterprise their own park only (another park is ``NotFound``), and within it what ``Scope`` lets
them read — an enterprise its own enterprise, devices and alerts; a park role its park's own meters
and what enterprises granted it. Energy reads under grants are audited (``EnergyFacet``). The
computations are in ``analytics/console*.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parkbrain.errors import NotFound

if TYPE_CHECKING:
    from parkbrain.analytics.console_parts import ConsoleScope
    from parkbrain.analytics.console_warm import ConsoleWarmer
    from parkbrain.analytics.energy import Accounting, Selection

#: Environment variables of the console's base map (天地图 or any XYZ tile URL, with its key).
TILE_URL_ENV = "PARKBRAIN_TILE_URL"
TILE_ATTRIBUTION_ENV = "PARKBRAIN_TILE_ATTRIBUTION"
LANGUAGES = ("zh", "en")


class ConsoleFacet:
    """Console overviews of ``Park``: province, park and enterprise views read from rollups."""

    def console_province(self, layer: str = "energy") -> dict[str, Any]:
        """The province map: KPIs, a choropleth ``layer`` (energy, carbon or aqi) per prefecture, the
        parks with their energy, carbon, open alerts and AQI, and the parks ranked by the layer.
        The province sees every park; a park role or an enterprise its own park."""
        from parkbrain.analytics.console import check_layer, compute_province_overview

        self.require("read")
        check_layer(layer)
        selection = self._energy_selection(None, None, None)
        return compute_province_overview(self.store, self._console_scope(), selection, layer, _accounting())

    def console_park(self, park_id: str) -> dict[str, Any]:
        """One park's page (``NotFound`` for a park that is not the caller's: the province sees all)."""
        from parkbrain.analytics.console import compute_park_overview

        self.require("read")
        scope = self._console_scope()
        if scope.parks is not None and park_id not in scope.parks:
            raise NotFound(f"no park with park_id {park_id!r}")
        park = self.park(park_id)
        selection = self._energy_selection(park_id, None, None)
        return compute_park_overview(self.store, scope, selection, park, _accounting())

    def console_quality(self, park_id: str | None = None, wait_s: float = 0.0) -> dict[str, Any]:
        """The data page's quality report: the last one computed for the park (a park role: its own;
        the province: any, or all) with its time, recomputed in the background when the data changed
        or it is old (``analytics.console_quality``); ``status`` is ``computing`` until the first is
        ready. ``wait_s``: seconds to wait for a computation under way."""
        from parkbrain.analytics.console_quality import quality_snapshot

        self.require("quality")
        park_id = self._own_park(park_id, "reads")
        if park_id is not None:
            self.park(park_id)  # NotFound before anything is computed
        return quality_snapshot(self.store, park_id, lambda: self.quality(park_id).as_dict(), wait_s)

    def console_warm_up(self, stopping: Callable[[], bool] | None = None) -> int:
        """Compute the province page (both layers) and each park's page as their users see them, so
        that the first visit after a start or an import reads memoised consumption and AQI; nothing
        is returned or audited; ``stopping()`` true ends it early. The number of pages computed."""
        from parkbrain.analytics.console import compute_park_overview
        from parkbrain.space import Principal

        province = self.as_principal(Principal("system", "console-warm", "console-warm", "province_admin"))
        for layer in ("energy", "aqi"):
            province.console_province(layer)
        parks = self.store.query_rows("SELECT park_id FROM parks ORDER BY park_id")
        for done, row in enumerate(parks):
            if stopping is not None and stopping():
                return 2 + done
            who = Principal("system", "console-warm", "console-warm", "park_admin", park_id=row["park_id"])
            view = self.as_principal(who)
            park = view.park(row["park_id"])
            selection = view._console_selection(row["park_id"])
            compute_park_overview(view.store, view._console_scope(), selection, park, _accounting())
        return 2 + len(parks)

    def console_warmer(self, interval_s: float | None = None) -> ConsoleWarmer:
        """A ``ConsoleWarmer`` (not started) that runs ``console_warm_up`` at start and whenever the
        month's day rollups or the register change (the server starts one; ``PARKBRAIN_CONSOLE_WARM=0``
        turns it off)."""
        from parkbrain.analytics.console_warm import INTERVAL_S, ConsoleWarmer, console_version

        return ConsoleWarmer(
            self.console_warm_up, lambda: console_version(self.store), interval_s or INTERVAL_S
        )

    def _console_selection(self, park_id: str) -> Selection:
        """The park page's energy selection as ``_energy_selection`` builds it, without the audit of
        grant reads (the warm-up reads for nobody)."""
        from parkbrain.analytics.energy import Selection
        from parkbrain.store.base import equal, where

        clause, params = where(self.scope.points("p", "d"), *equal(("d.park_id", park_id)))
        return Selection(clause.removeprefix("WHERE ").strip(), tuple(params))

    def console_enterprise(self, enterprise_id: str) -> dict[str, Any]:
        """One enterprise's page (``NotFound`` unless the caller may read the enterprise)."""
        from parkbrain.analytics.console import compute_enterprise_overview

        enterprise = self.enterprise(enterprise_id)
        selection = self._energy_selection(None, enterprise_id, None)
        return compute_enterprise_overview(
            self.store, self._console_scope(), selection, enterprise, _accounting()
        )

    def console_config(self) -> dict[str, Any]:
        """The console's settings: the base-map tile URL and attribution (``PARKBRAIN_TILE_URL``,
        ``PARKBRAIN_TILE_ATTRIBUTION``; none by default: the base layer is the boundaries GeoJSON)."""
        self.require("read")
        return {
            "tile_url": os.environ.get(TILE_URL_ENV) or None,
            "tile_attribution": os.environ.get(TILE_ATTRIBUTION_ENV) or None,
            "languages": list(LANGUAGES),
        }

    def _console_scope(self) -> ConsoleScope:
        from parkbrain.analytics.console_parts import ConsoleScope

        s = self.scope
        own = self.principal.park_id
        parks = None if s.everything else ((own,) if own else ())
        return ConsoleScope(s.enterprises("e"), s.alerts("a"), s.buildings("b"), s.points("p", "d"), parks)


def _accounting() -> Accounting:
    """当量值 (GB/T 2589-2020) and the default grid factor (``energy_factors.DEFAULT_FACTOR``)."""
    from parkbrain.analytics.energy import Accounting
    from parkbrain.analytics.energy_factors import grid_factor

    return Accounting(mode="equivalent", factor=grid_factor(None))
