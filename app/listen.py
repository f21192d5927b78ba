"""Where the server may listen: plain HTTP only on loopback; any other address needs TLS."""

from __future__ import annotations

import ipaddress


class InsecureListenError(ValueError):
    pass


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_listen(host: str, *, tls: bool) -> None:
    """Raise InsecureListenError for plain HTTP on a non-loopback address (DICOM must not cross a network
    in the clear); names other than ``localhost`` count as non-loopback."""
    if not tls and not is_loopback(host):
        raise InsecureListenError(
            f"refusing to listen on {host!r} without TLS: plain HTTP is allowed only on loopback "
            "(127.0.0.1, ::1, localhost). Give --certfile and --keyfile to serve HTTPS."
        )
