"""The ASGI application as uvicorn workers build it (configuration from the environment)."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time

from fastapi import FastAPI

from ...registry.db import make_engine
from ...registry.service import Registry
from .app import create_app

# The server's HTTP protocol (uvicorn's httptools, answering the lookups itself: protocol.py).
PROTOCOL = "onshi.interfaces.http.protocol:LookupProtocol"
WATCH_INTERVAL = 1.0  # seconds between a worker's looks at its supervisor
GRACE = 10.0  # seconds a worker left alone has to finish its requests before it exits anyway


def app_from_env() -> FastAPI:
    """uvicorn factory: `uvicorn --factory onshi.interfaces.http.server:app_from_env`."""
    supervisor = os.environ.get("ONSHI_SUPERVISOR_PID")
    if supervisor and supervisor.isdigit() and int(supervisor) == os.getppid():
        exit_with_supervisor(int(supervisor))
    engine = make_engine()
    app = create_app(Registry(engine, buffered_log=True))
    # What is alive now (the modules, the app, the policy: about 160,000 objects) lives as long
    # as the worker: out of the collector's reach (gc.freeze), so that its full collections
    # look only at what the requests made since. Before, each full collection walked all of
    # them, about 100 ms with the loop stopped, three times in 10 s of lookups by numbers at
    # 32 connections: their p99 over HTTP was 70-100 ms; frozen, 11-13 ms (README "Benchmarks").
    gc.freeze()
    return app


def exit_with_supervisor(supervisor: int) -> None:
    """A worker of `onshi serve --workers N` leaves when its supervisor is gone, however it went
    (a kill -9 gives the supervisor no chance to stop its workers): the kernel's parent-death
    signal where there is one (Linux), and a watcher thread everywhere."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass  # the watcher below still does it

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(WATCH_INTERVAL)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown: the log is flushed
        time.sleep(GRACE)
        os._exit(1)

    threading.Thread(target=watch, name="onshi-supervisor-watch", daemon=True).start()
