"""The production HTTP server: waitress, with the limits that keep slow clients from starving it.

Waitress reads requests and writes responses in one asynchronous I/O loop, so a slow client holds
a connection, never a worker thread. Two gaps remain, closed here:
- a client that trickles its headers a byte at a time is never idle, so waitress's idle timeout
  never closes it: a request's headers must be complete within HEADER_SECONDS of its first byte;
- past `connection_limit` waitress stops accepting, so a few hundred trickling sockets would shut
  everyone else out: the limit is MAX_CONNECTIONS, well above what header trickling can hold
  open within HEADER_SECONDS from one address.
Put a reverse proxy with per-address connection limits in front for anything wider.
"""

from __future__ import annotations

import time

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer

#: Seconds within which a request's headers must have arrived, from its first byte.
HEADER_SECONDS = 10
#: Connections held open at once (each costs a file descriptor and a little memory, no thread).
MAX_CONNECTIONS = 2000


class _TimedParser(HTTPRequestParser):
    """A request parser that remembers when the request's first byte came."""

    def __init__(self, adj):
        super().__init__(adj)
        self.began = time.monotonic()


class _Channel(HTTPChannel):
    parser_class = _TimedParser


class Server(TcpWSGIServer):
    """waitress's TCP server, closing connections whose headers take too long."""

    channel_class = _Channel

    def __init__(self, application, header_seconds: float = HEADER_SECONDS, **options):
        self.header_seconds = header_seconds
        options.setdefault("connection_limit", MAX_CONNECTIONS)
        super().__init__(application, **options)

    def maintenance(self, now):
        super().maintenance(now)
        cutoff = time.monotonic() - self.header_seconds
        for channel in list(self.active_channels.values()):
            request = channel.request
            if request is not None and not request.headers_finished and getattr(request, "began", cutoff) < cutoff:
                channel.will_close = True


def create_server(
    application, host: str, port: int, threads: int, timeout: int, header_seconds: float, max_request_body_size: int
) -> Server:
    """The server, bound and listening (an OSError when the address cannot be used)."""
    return Server(
        application,
        header_seconds=header_seconds,
        host=host,
        port=port,
        threads=threads,
        channel_timeout=timeout,
        cleanup_interval=max(1, min(30, int(min(timeout, header_seconds)) // 3)),
        max_request_body_size=max_request_body_size,
        ident="kinerja",
        clear_untrusted_proxy_headers=True,
    )
