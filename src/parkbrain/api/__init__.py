"""The REST API (FastAPI), served by ``parkbrain serve``."""

from parkbrain.api.app import create_app

__all__ = ["create_app"]
