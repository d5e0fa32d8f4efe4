"""Response helpers shared by the API's route modules."""

from __future__ import annotations

from typing import Any

from fastapi import Response


def paged(response: Response, page: tuple[list[dict[str, Any]], int]) -> list[dict[str, Any]]:
    """The rows of a ``(rows, total)`` page, with the total in the ``X-Total-Count`` header."""
    rows, total = page
    response.headers["X-Total-Count"] = str(total)
    return rows
