"""The HTTP face: FastAPI routes over the same pipeline the CLI and the worker use."""

from sigma_aetl.http.app import create_app

__all__ = ["create_app"]
