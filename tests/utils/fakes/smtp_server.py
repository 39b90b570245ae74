"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and answers as scripted.

    with SmtpServer() as smtp:                     # plain SMTP on smtp.port
        smtp.script("451 4.3.0 Try again later")  # the next DATA gets this, then "250"
        smtp.hold_next(event)                      # the next DATA is answered once event is set
        ...
        (received,) = smtp.messages                # email.message.EmailMessage, parsed

`SmtpServer(tls_files=(cert, key), users={"name": "password"})` offers STARTTLS, requires it,
and requires AUTH (PLAIN/LOGIN) after it, like a real submission server on port 587.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.server._lock:
            reply = self.server._replies.pop(0) if self.server._replies else "250 2.0.0 OK"
            hold, self.server._hold = self.server._hold, None
            self.server.attempts.append(str(parsed["Message-ID"]))
        if hold is not None:  # keep the sender waiting for our answer until the test says
            await asyncio.get_running_loop().run_in_executor(None, hold.wait)
        if not reply.startswith("250"):
            return reply
        with self.server._lock:
            self.server.messages.append(parsed)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.logins.append(getattr(session, "auth_data", None))
        return "250 2.0.0 OK"


class SmtpServer:
    def __init__(
        self,
        *,
        tls_files: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.attempts: list[str] = []  # the Message-ID of every DATA, accepted or not
        self.logins: list[Any] = []
        self._replies: list[str] = []
        self._hold: threading.Event | None = None
        self._lock = threading.Lock()
        options: dict[str, Any] = {}
        if tls_files is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
            options.update(tls_context=context, require_starttls=True)
        if users is not None:
            options.update(
                authenticator=self._authenticator(users),
                auth_required=True,
                auth_require_tls=True,
            )
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )

    @staticmethod
    def _authenticator(users: dict[str, str]) -> Any:
        def check(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any):  # type: ignore[no-untyped-def]
            if isinstance(data, LoginPassword):
                name, password = data.login.decode(), data.password.decode()
                if users.get(name) == password:
                    return AuthResult(success=True, auth_data=name)
            return AuthResult(success=False, handled=False)

        return check

    def script(self, *replies: str) -> None:
        """The answers to the next DATA commands, in order; "250" after they run out."""
        with self._lock:
            self._replies.extend(replies)

    def hold_next(self, release: threading.Event) -> None:
        """The next DATA waits for `release` before it is answered (a sender mid-send)."""
        with self._lock:
            self._hold = release

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()
