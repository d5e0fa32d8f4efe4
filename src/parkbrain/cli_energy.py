"""``parkbrain`` commands for energy (registered on the group in ``parkbrain.cli``)."""

from __future__ import annotations

from parkbrain.cli import cli  # noqa: F401  (commands below attach to it)
