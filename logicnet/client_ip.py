"""The client's address, as far as the deployment can vouch for it.

Behind a reverse proxy every request comes from the proxy's address, so rate limits keyed by
REMOTE_ADDR would put every visitor in one bucket (one attacker could lock everybody out) and
the audit log would record only the proxy. X-Forwarded-For carries the real address, but any
client can send that header with any value, so it is believed only as far as the hops that
wrote it are in settings.TRUSTED_PROXIES:

- the request's peer (REMOTE_ADDR) is not a trusted proxy: the peer is the client, and a
  forwarded header it sent is ignored (it is the client speaking about itself);
- otherwise the header is read right to left (each proxy appends the address it received the
  connection from), skipping trusted hops; the first untrusted address is the client. The
  entries left of it were written by the client and are never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(name: str, values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR blocks (`10.0.0.0/8`, `::1`); a malformed one stops start-up."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an IP address or network (for example 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def parse_address(value: str | None) -> IPAddress | None:
    """An address as a proxy or the server wrote it; None when it is not one.

    Accepts `[2001:db8::1]:443` and `192.0.2.1:8080` (some proxies add the port) and gives an
    IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, from a dual-stack socket) as IPv4, so one
    client has one spelling in the rate limits and the audit log.
    """
    if not value:
        return None
    text = value.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_address(*, remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[IPNetwork]) -> str | None:
    peer = parse_address(remote_addr)
    if peer is None or not trusted or not _is_trusted(peer, trusted):
        return str(peer) if peer is not None else None
    client = peer
    for hop in reversed((forwarded_for or "").split(",")):
        address = parse_address(hop)
        if address is None:
            # Garbage or an empty entry where a trusted proxy should have written its peer:
            # stop at the last hop we can vouch for rather than believe anything further left.
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)


def client_ip(request) -> str | None:
    """The client's address for this request (None only without a request)."""
    if request is None:
        return None
    return client_address(
        remote_addr=request.META.get("REMOTE_ADDR"),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
        trusted=settings.TRUSTED_PROXIES,
    )
