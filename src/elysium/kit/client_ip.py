"""The client IP: the peer, or the last untrusted `X-Forwarded-For` hop behind a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(trusted))


def _valid_ip(value: str) -> str | None:
    """`value` as a canonical IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def resolve_client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """Walk `X-Forwarded-For` from the right while hops are trusted proxies.

    Only valid IP addresses are believed: a hop that is not one (`evil`, `1.2.3.4:80`, an
    injected log line) makes the whole header ignored, and the peer is the client.
    """
    trusted_t = tuple(trusted)
    peer = peer or "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted_t):
        return peer
    current = peer
    for raw in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        hop = _valid_ip(raw)
        if hop is None:
            return peer
        current = hop
        if not _is_trusted(hop, trusted_t):
            break
    return current


def trusted_peer(peer: str | None, trusted: Sequence[str]) -> bool:
    """Whether the direct peer is one of the trusted proxies (whose X-Forwarded-* we believe)."""
    return peer is not None and _is_trusted(peer, tuple(trusted))
