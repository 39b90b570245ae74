"""REST API (FastAPI), mounted in front of Reflex's backend with `api_transformer`."""

from app.api.main import create_api

__all__ = ["create_api"]
