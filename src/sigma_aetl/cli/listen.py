"""Taking a listening port before anything else is opened, so a port in use fails at once and cleanly.

``serve`` (and the worker's health port) bind their port first: a port another process holds is then a
one-line error naming it, exit code 2, before the contracts are loaded, the store is opened or a writer
process is started — instead of uvicorn's own behaviour, which binds only after the application has
started (and logged that it is ready) and then exits 3.

The socket is bound with ``SO_REUSEADDR``, as uvicorn binds its own, so a restart is not refused because
of the last run's connections in TIME_WAIT; it refuses only a port some socket *listens* on.
"""

import errno
import ipaddress
import socket
from typing import NoReturn

from sigma_aetl.cli.errors import fail

_WHY = {
    errno.EADDRINUSE: "it is already in use (another process listens there)",
    errno.EADDRNOTAVAIL: "that address is not one of this machine's",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
}


def bind(host: str, port: int, *, option: str) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet); exit code 2 naming the port when it cannot
    be. ``option`` says how to choose another port (``--port or SIGMA_AETL_PORT``)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        refused(host, port, exc, option)
    return sock


def listen(sock: socket.socket, backlog: int, *, option: str) -> None:
    """Start listening on a bound socket; exit code 2 naming the port when another socket got there first
    (two processes started at the same moment may both bind: only one can listen)."""
    host, port = sock.getsockname()[:2]
    try:
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        refused(host, port, exc, option)


def refused(host: str, port: int, exc: OSError, option: str) -> NoReturn:
    """Exit code 2: ``error: cannot listen on HOST:PORT: why; how to choose another``."""
    why = _WHY.get(exc.errno or 0, exc.strerror or str(exc))
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    fail(f"cannot listen on {where}: {why}; stop that process or choose another port ({option})")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.1``, ``::1``, ``localhost``): reachable from this
    machine only. A host name other than ``localhost`` may resolve anywhere, so it is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
