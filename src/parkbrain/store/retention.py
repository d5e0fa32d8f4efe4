"""How long readings are kept at each resolution, declared as data, and the chore that applies it.

Raw readings are kept 400 days, 15-minute rollups 2 years, hourly 5 years, daily forever: the
coarser a resolution, the longer it stays, so a dashboard always has some resolution to show.

Retention deletes raw readings for good: run ``parkbrain lake export`` first so that the Parquet
lake keeps them. Cutoffs fall on the first of an Asia/Shanghai month, so retention removes whole
lake months from the database, never part of one (a later export then leaves the lake's copy of
that month alone instead of replacing it with what is left). Rows older than the cutoff go; the
cutoff itself is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parkbrain.errors import InvalidInput
from parkbrain.store.duckdb import DuckDBStore
from parkbrain.store.lake import month_start


@dataclass(frozen=True)
class RetentionPolicy:
    """Keep the rows of ``table`` whose ``column`` is within ``keep_days`` (None: forever)."""

    table: str
    keep_days: int | None
    column: str

    @property
    def resolution(self) -> str:
        """``raw``, ``15m``, ``1h`` or ``1d``: the name used in overrides and on the command line."""
        return "raw" if self.table == "readings" else self.table.removeprefix("readings_")


@dataclass(frozen=True)
class RetentionResult:
    """What a policy removed (or would remove, in a dry run); ``cutoff`` is None when kept forever."""

    table: str
    cutoff: datetime | None
    rows_deleted: int


DEFAULT_RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy("readings", 400, "ts"),
    RetentionPolicy("readings_15m", 2 * 365, "bucket"),
    RetentionPolicy("readings_1h", 5 * 365, "bucket"),
    RetentionPolicy("readings_1d", None, "bucket"),
)
_KNOWN = {(p.table, p.column) for p in DEFAULT_RETENTION}


def retention_policies(
    overrides: Mapping[str, int | None] | None = None,
    base: Iterable[RetentionPolicy] = DEFAULT_RETENTION,
) -> tuple[RetentionPolicy, ...]:
    """``base`` with ``keep_days`` replaced per resolution, e.g. ``{"raw": 730, "15m": None}``."""
    policies = tuple(base)
    overrides = dict(overrides or {})
    unknown = set(overrides) - {p.resolution for p in policies}
    if unknown:
        names = ", ".join(p.resolution for p in policies)
        raise InvalidInput(f"retention: unknown resolution(s) {', '.join(sorted(unknown))}; expected {names}")
    found = tuple(replace(p, keep_days=overrides.get(p.resolution, p.keep_days)) for p in policies)
    check_policies(found)
    return found


def check_policies(policies: Iterable[RetentionPolicy]) -> None:
    """Raise ``InvalidInput`` for a policy on an unknown table or keeping less than a day."""
    for policy in policies:
        if (policy.table, policy.column) not in _KNOWN:
            raise InvalidInput(f"retention: no policy can apply to {policy.table}.{policy.column}")
        days = policy.keep_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
            raise InvalidInput(
                f"retention: keep_days for {policy.resolution} must be a whole number of days ≥ 1 "
                f"or None (forever); got {days!r}"
            )


def retention_cutoff(policy: RetentionPolicy, now: datetime) -> datetime | None:
    """The instant (UTC) before which ``policy`` deletes rows: the start of the Asia/Shanghai month
    that holds ``now - keep_days``. Naive ``now`` is park time."""
    if policy.keep_days is None:
        return None
    return month_start(now - timedelta(days=policy.keep_days))


def apply_retention(
    store: DuckDBStore,
    now: datetime,
    policies: Iterable[RetentionPolicy] = DEFAULT_RETENTION,
    dry_run: bool = False,
) -> list[RetentionResult]:
    """Delete the rows each policy no longer keeps, one transaction per table; ``dry_run`` only
    counts them (and works on a read-only store)."""
    policies = tuple(policies)
    check_policies(policies)
    return [_apply(store, p, retention_cutoff(p, now), dry_run) for p in policies]


def _apply(
    store: DuckDBStore, policy: RetentionPolicy, cutoff: datetime | None, dry_run: bool
) -> RetentionResult:
    if cutoff is None:
        return RetentionResult(policy.table, None, 0)
    where = f'"{policy.column}" < ?'
    if dry_run:
        count = store.cursor().execute(f'SELECT count(*) FROM "{policy.table}" WHERE {where}', [cutoff])
        return RetentionResult(policy.table, cutoff, count.fetchone()[0])
    with store.transaction() as con:
        deleted = con.execute(f'DELETE FROM "{policy.table}" WHERE {where}', [cutoff]).fetchone()[0]
    return RetentionResult(policy.table, cutoff, deleted)
