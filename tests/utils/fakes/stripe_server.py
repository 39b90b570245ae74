"""A loopback fake of the Stripe API calls JSONCraft makes, and Stripe's webhook signing.

It speaks Stripe's wire protocol: form-encoded requests with bracketed keys
(`line_items[0][price_data][unit_amount]=500`), `Authorization: Bearer sk_test_...`, an
`Idempotency-Key` header that replays the first answer, and JSON objects with `object` and `id`.
Served: `POST /v1/customers`, `GET /v1/customers/{id}`, `POST /v1/checkout/sessions`,
`GET /v1/checkout/sessions/{id}`. A hosted "checkout page" (`GET /pay/{id}`, whose form posts
back to the same address) completes the session, delivers a signed `checkout.session.completed`
to `webhook_url` and redirects to the success URL, for browser tests.

    with FakeStripeServer(webhook_url=..., webhook_secret="whsec_test") as stripe_api:
        settings.stripe_api_base = stripe_api.url
        event = stripe_api.completed_event(session_id)      # what Stripe would send
        body, header = signed(event, "whsec_test")          # signed exactly as Stripe signs

`localstripe` (PyPI) covers customers, payment intents and subscriptions but not Checkout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.utils.fakes.loopback import LoopbackHandler, LoopbackServer

API_VERSION = "2025-09-30.clover"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    params: dict[str, Any]


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed(
    event: dict[str, Any], secret: str, *, timestamp: int | None = None
) -> tuple[bytes, str]:
    """An event's body as Stripe sends it, and its signature header."""
    body = json.dumps(event, indent=2).encode()
    return body, sign(body, secret, timestamp=timestamp)


def make_event(
    event_type: str, obj: dict[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    """A webhook event wrapping `obj`, shaped like Stripe's."""
    return {
        "id": event_id or _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's bracketed form encoding to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: Any = value if last else ([] if parts[i + 1].isdigit() else {})
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None or last:
                    node[index] = nxt
                node = node[index]
            else:
                if part not in node or last:
                    node[part] = nxt
                node = node[part]
    return root


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


class FakeStripeServer(LoopbackServer):
    """Start with `with FakeStripeServer() as server:`; `server.url` is STRIPE_API_BASE."""

    requests: list[RecordedRequest]

    def __init__(
        self,
        *,
        api_key_prefix: str = "sk_test_",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        super().__init__()
        self.api_key_prefix = api_key_prefix
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.fail_next: int = 0  # answer this many API requests with a 500
        self._idempotent: dict[str, tuple[int, dict[str, Any]]] = {}

    # -- what tests drive -------------------------------------------------------------------

    def complete(self, session_id: str) -> dict[str, Any]:
        """Pay for a Checkout Session (as the customer would) and return the updated object."""
        with self._lock:
            checkout = self.sessions[session_id]
            checkout["status"] = "complete"
            checkout["payment_status"] = "paid"
            if checkout["mode"] == "payment":
                checkout["payment_intent"] = checkout["payment_intent"] or _new_id("pi")
            else:
                checkout["subscription"] = checkout["subscription"] or _new_id("sub")
            return json.loads(json.dumps(checkout))

    def completed_event(self, session_id: str) -> dict[str, Any]:
        return make_event("checkout.session.completed", self.complete(session_id))

    def deliver(self, event: dict[str, Any]) -> int:
        """POST a signed event to `webhook_url`; returns the HTTP status."""
        assert self.webhook_url and self.webhook_secret
        body, header = signed(event, self.webhook_secret)
        request = urllib.request.Request(
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as e:
            return int(e.code)

    # -- the API ----------------------------------------------------------------------------

    def _api(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/customers":
            customer = {
                "id": _new_id("cus"),
                "object": "customer",
                "created": int(time.time()),
                "email": params.get("email"),
                "name": params.get("name"),
                "metadata": params.get("metadata", {}),
                "livemode": False,
            }
            self.customers[customer["id"]] = customer
            return 200, customer
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        match = re.fullmatch(r"/v1/(customers|checkout/sessions)/([\w-]+)", path)
        if method == "GET" and match:
            store = self.customers if match[1] == "customers" else self.sessions
            if match[2] in store:
                return 200, store[match[2]]
            return 404, _error(f"No such object: '{match[2]}'", code="resource_missing")
        return 404, _error(f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        mode = params.get("mode")
        if mode not in ("payment", "subscription", "setup"):
            return 400, _error("Missing required param: mode.", param="mode")
        for name in ("success_url", "line_items"):
            if not params.get(name):
                return 400, _error(f"Missing required param: {name}.", param=name)
        customer = params.get("customer")
        if customer and customer not in self.customers:
            return 400, _error(f"No such customer: '{customer}'", param="customer")
        total, currency = 0, "usd"
        for item in params["line_items"]:
            price = item.get("price_data") or {}
            total += int(price.get("unit_amount", 0)) * int(item.get("quantity", 1))
            currency = price.get("currency", currency)
        session_id = _new_id("cs")
        checkout = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "currency": currency,
            "customer": customer,
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "payment_intent": None,
            "subscription": None,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.url}/pay/{session_id}",
            "created": int(time.time()),
            "livemode": False,
        }
        self.sessions[session_id] = checkout
        return 200, checkout

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:  # noqa: N802
                self._dispatch("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                path, _, query = self.path.partition("?")
                params = parse_form(raw if method == "POST" else query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(RecordedRequest(method, path, headers, params))
                if path.startswith("/pay/"):
                    self._checkout_page(method, path.removeprefix("/pay/"))
                    return
                auth = headers.get("authorization", "")
                if not auth.startswith(f"Bearer {server.api_key_prefix}") or len(auth) < 20:
                    self._json(401, _error("Invalid API Key provided.", kind="authentication"))
                    return
                with server._lock:
                    if server.fail_next > 0:
                        server.fail_next -= 1
                        self._json(500, _error("Fake outage.", kind="api"))
                        return
                    key = headers.get("idempotency-key")
                    if method == "POST" and key and key in server._idempotent:
                        self._json(*server._idempotent[key])
                        return
                    status, body = server._api(method, path, params)
                    if method == "POST" and key:
                        server._idempotent[key] = (status, body)
                self._json(status, body)

            def _checkout_page(self, method: str, session_id: str) -> None:
                checkout = server.sessions.get(session_id)
                if checkout is None:
                    self._send(404, b"No such checkout session", "text/plain")
                    return
                if method == "GET":
                    page = (
                        "<!doctype html><title>Fake Stripe Checkout</title>"
                        '<link rel="icon" href="data:,">'
                        f"<h1>Pay {checkout['amount_total'] / 100:.2f} "
                        f"{checkout['currency'].upper()}</h1>"
                        '<form method="post"><button type="submit">Pay</button></form>'
                    )
                    self._send(200, page.encode(), "text/html")
                    return
                if server.webhook_url and server.webhook_secret:
                    server.deliver(server.completed_event(session_id))
                else:
                    server.complete(session_id)
                target = str(checkout["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send(
                self,
                status: int,
                body: bytes,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                headers = {"Request-Id": _new_id("req"), **(headers or {})}
                super()._send(status, body, content_type, headers)

        return Handler


def _error(
    message: str,
    *,
    kind: str = "invalid_request",
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": f"{kind}_error", "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return {"error": error}
