"""The web service: a FastAPI app over the use cases, with roles, audit and the dashboard."""

from .app import WebSettings, create_app

__all__ = ["create_app", "WebSettings"]
