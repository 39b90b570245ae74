"""Where a webhook may be sent: the guard against server-side request forgery (SSRF).

A destination is an http(s) URL without credentials whose host resolves only to public
addresses: private, loopback, link-local, multicast, reserved, unspecified and other
non-global ranges (IPv4 and IPv6, IPv4-mapped IPv6 included) are refused, unless
WEBHOOK_ALLOW_PRIVATE_NETWORKS is on. It is checked when an endpoint is saved and again at
every send, since DNS can change in between; the sender then connects to the very address
that was checked (`Destination.address`), so a second lookup can't swap in a private one
(DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.services.core.errors import InvalidInputError

MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefusedError(InvalidInputError):
    """The URL can't be a webhook destination; the message says why."""


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str  # as written (a name or an address), for the Host header and TLS
    port: int
    address: str  # the checked address to connect to


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed http(s) URL; DestinationRefusedError otherwise."""
    text = url.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        raise DestinationRefusedError(f"The URL must be 1 to {MAX_URL_LENGTH} characters long.")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise DestinationRefusedError("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefusedError("The URL is not valid.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DestinationRefusedError("The URL must start with https:// (or http://).")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefusedError(
            "The URL must not contain a user name or password; check the signature instead."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise DestinationRefusedError("The URL has no host name.")
    return scheme, host, port or (443 if scheme == "https" else 80)


def is_public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return is_public(mapped)
    refused = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    return not refused and address.is_global


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise DestinationRefusedError(f"The host name {host!r} does not resolve.") from exc
    found: list[IPAddress] = []
    for info in infos:
        # The scope of a link-local IPv6 address ("fe80::1%eth0") is not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise DestinationRefusedError(f"The host name {host!r} does not resolve.")
    return found


def check_destination(url: str, *, allow_private: bool) -> Destination:
    """The URL's destination, resolved and checked; DestinationRefusedError if refused.

    Every address the name resolves to must be public, not just the first: otherwise an
    attacker's name could answer with one public and one private address."""
    scheme, host, port = parse_url(url)
    addresses = _resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise DestinationRefusedError(
                    f"The URL's host resolves to {address}, a private, loopback, link-local or "
                    "otherwise non-public address; webhooks go only to public addresses."
                )
    return Destination(
        url=url.strip(), scheme=scheme, host=host, port=port, address=str(addresses[0])
    )
