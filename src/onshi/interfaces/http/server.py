"""The ASGI application as uvicorn workers build it (configuration from the environment)."""

from __future__ import annotations

from fastapi import FastAPI

from ...registry.db import make_engine
from ...registry.service import Registry
from .app import create_app


def app_from_env() -> FastAPI:
    """uvicorn factory: `uvicorn --factory onshi.interfaces.http.server:app_from_env`."""
    engine = make_engine()
    return create_app(Registry(engine, buffered_log=True))
