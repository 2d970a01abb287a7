"""Where a webhook may point: an http(s) URL without credentials, whose host does not
resolve to the service's own machine, to a link-local address or a cloud's metadata
service, unless the setting allows loopback; nor ever to a multicast, broadcast,
unspecified or reserved address.

The check is made when a webhook is given and again at every delivery, on the
addresses the host resolves to then; the delivery connects to the address checked, so
a name that resolves elsewhere between the check and the connection (DNS rebinding)
gains nothing.

Private networks (RFC 1918, fc00::/7) are allowed: a team's chat bridge or CI server
on its own network is a webhook's ordinary receiver, and the service cannot tell a
private address of its own machine from a neighbour's; loopback, which always is its
own machine, is what an attacker reaches for, with link-local for cloud credentials.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.errors import InvalidWebhook

__all__ = [
    "MAX_URL_LENGTH",
    "Target",
    "canonical_url",
    "check_address",
    "check_url",
    "parse_url",
    "redact",
    "resolve",
]

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # 0.x.y.z reaches this host on Linux
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
# Cloud metadata services outside link-local: AWS's over IPv6, Alibaba Cloud's.
_METADATA = frozenset(ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200"))
# NAT64's well-known prefix (RFC 6052): the IPv4 address in its last 32 bits is reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A webhook's URL, split: its scheme, host (without brackets) and port."""

    url: str
    scheme: str
    host: str
    port: int


def parse_url(url: str) -> Target:
    """Check a webhook's URL's form.

    Raises: InvalidWebhook for another scheme than http or https, no host, a user or
        password in it, a bad port, or one longer than MAX_URL_LENGTH.
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook(f"a webhook's URL may be at most {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise InvalidWebhook("a webhook's URL may not hold spaces or control characters")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhook("a webhook's URL must be a valid http or https URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidWebhook("a webhook's URL must use http or https")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhook(
            "a webhook's URL may not hold a user or password; sign the body with a secret"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidWebhook("a webhook's URL must name a host")
    if port == 0:
        raise InvalidWebhook("a webhook's URL may not name port 0")
    return Target(url, scheme, host, port if port is not None else 443 if scheme == "https" else 80)


def canonical_url(url: str) -> str:
    """The URL with its scheme and host in lower case (they are case-insensitive), the
    rest as given: two URLs that differ only there are one webhook.

    Raises: InvalidWebhook as `parse_url`.
    """
    parse_url(url)
    parts = urlsplit(url)
    head = f"{parts.scheme}://{parts.netloc}"  # no user or password: parse_url refused them
    if url[: len(head)].lower() != head.lower():  # a form urlsplit mends: left as given
        return url
    return head.lower() + url[len(head) :]


def check_address(address: IPAddress, allow_loopback: bool) -> None:
    """Raises: InvalidWebhook if a webhook may not reach `address`."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    elif address in _NAT64:
        address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_multicast:
        raise InvalidWebhook(f"a webhook may not reach a multicast address ({address})")
    if address == _BROADCAST:
        raise InvalidWebhook(f"a webhook may not reach a broadcast address ({address})")
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK
    ):
        raise InvalidWebhook(f"a webhook may not reach an unspecified address ({address})")
    if address.is_loopback:
        if allow_loopback:
            return  # before the reserved check: ::1 lies in IPv6's reserved ::/8
        raise InvalidWebhook(
            f"a webhook may not reach the service's own machine ({address} is loopback)"
        )
    if address.is_link_local or address in _METADATA:
        if allow_loopback:
            return
        if address in _METADATA:
            raise InvalidWebhook(
                f"a webhook may not reach a cloud's metadata service ({address}), where "
                "clouds serve their instances' credentials"
            )
        raise InvalidWebhook(
            f"a webhook may not reach a link-local address ({address}), where clouds "
            "serve their instances' credentials"
        )
    if address.is_reserved:
        raise InvalidWebhook(f"a webhook may not reach a reserved address ({address})")


def check_url(url: str, allow_loopback: bool) -> Target:
    """Check a webhook's URL as it is given: its form, and every address its host
    resolves to now. A name that does not resolve yet is taken (its DNS may come
    later); every delivery checks again.

    Raises: InvalidWebhook.
    """
    target = parse_url(url)
    try:
        addresses = resolve(target)
    except (OSError, UnicodeError):
        return target
    for address in addresses:
        check_address(address, allow_loopback)
    return target


def resolve(target: Target) -> list[IPAddress]:
    """The addresses the URL's host names now, in the resolver's order (an address
    written in the URL: itself).

    Raises: OSError if the name does not resolve.
    """
    try:
        return [ipaddress.ip_address(target.host.split("%", 1)[0])]
    except ValueError:
        pass
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def redact(url: str) -> str:
    """The URL as a reader may see it: its scheme and host, the rest (path, query, a
    Slack webhook's token) elided."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "…"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}/…"
