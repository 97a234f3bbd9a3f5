"""Local HTTP test servers: a quiet handler base and a background thread for a block."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON = {"Content-Type": "application/json"}


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that answers with `reply` and logs nothing."""

    def reply(self, status: int, body: bytes = b"", headers: Mapping[str, str] = JSON) -> None:
        """Send a whole response: status, headers, Content-Length and body."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run `server` (bound to 127.0.0.1) until the block ends; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
