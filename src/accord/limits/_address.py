"""Who an anonymous request comes from: the peer, or what trusted proxies say it was.

``X-Forwarded-For`` is a list any client can write; only the hops appended by
proxies this node trusts mean anything. Read from the right (each proxy
appends the address it saw), the first address that is not a trusted proxy is
the client. With no trusted proxies (the default) the header is ignored.

IPv6 clients are keyed by their /64: one host is given a whole /64 (RFC 6177
§2 and common practice), so keying by the full address would give it 2**64
fresh buckets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks (``10.0.0.1, 192.168.0.0/16, ::1``).

    Raises:
        ValueError: an entry is neither an address nor a network.
    """
    found: list[Network] = []
    for part in text.split(","):
        part = part.strip()
        if part:
            found.append(ipaddress.ip_network(part, strict=False))
    return tuple(found)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Iterable[Network]
) -> bool:
    return any(address.version == n.version and address in n for n in nets)


def client_address(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's key: its address (IPv6: its /64), as trusted proxies report it.

    Args:
        peer: the address of the TCP peer (None or unreadable: "unknown").
        forwarded: the ``X-Forwarded-For`` header values, in order.
        trusted: the proxies whose ``X-Forwarded-For`` hops are believed.
    """
    address = _parse(peer) if peer else None
    if address is None:
        return "unknown"
    if not trusted or not _trusted(address, trusted):
        return _key(address)
    hops = [h for value in forwarded for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # garbage from before the first trusted proxy: trust what we have
        address = parsed
        if not _trusted(parsed, trusted):
            break
    return _key(address)
