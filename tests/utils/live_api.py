"""The REST API (`create_api`) served by uvicorn on a loopback port, in a thread of the test
process: fakes that call us back (a provider fetching a presigned file, a signed webhook)
reach the same settings and database as the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from app.api.main import create_api


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_api(port: int) -> Iterator[str]:
    config = uvicorn.Config(create_api(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
