"""A real OpenID Connect provider on loopback (oidc-provider-mock) standing in for Google.

Started once per test session by the `oidc_provider` fixture (tests/conftest.py): the Google
sign-in integration tests drive it by hand, the browser tests through Chromium.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class OidcProvider:
    url: str
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def add_user(self, sub: str, **claims: object) -> None:
        response = httpx.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims)
        assert response.status_code == 204, response.text

    def params_of(self, path: str) -> list[dict[str, str]]:
        """The query and form fields of every request to `path`, in order."""
        return [params for seen, params in self.calls if seen == path]


def _recording(app: WsgiApp, calls: list[tuple[str, dict[str, str]]]) -> WsgiApp:
    """Keep each request's query and form fields, so a test can check what we sent."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        params.update(parse_qsl(body.decode("latin-1")))
        calls.append((environ["PATH_INFO"], params))
        return app(environ, start_response)

    return wrapped


@contextmanager
def running_oidc_provider() -> Iterator[OidcProvider]:
    """The provider on a free loopback port, in a thread, until the block ends."""
    import oidc_provider_mock
    import werkzeug.serving

    found = OidcProvider(url="")
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, _recording(oidc_provider_mock.app(), found.calls), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield found
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
