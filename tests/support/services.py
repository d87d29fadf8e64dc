"""Is a service reachable? ``python -m tests.support.services postgres|redis URL`` exits 0 if so."""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlsplit


def reachable(url: str, timeout: float = 2.0) -> bool:
    """True when something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    default = {"postgres": 5432, "postgresql": 5432, "redis": 6379}.get(parts.scheme, 0)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default), timeout
        ):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if reachable(sys.argv[2]) else 1)
