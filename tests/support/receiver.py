"""A real HTTP server on 127.0.0.1 that keeps what Apprise's json:// posts to it.

    with json_receiver() as (url, received):   # url: json://127.0.0.1:<port>/edustat
        ...                                    # received: the decoded JSON bodies, in order

The digest's structured fields ride in each body under "edustat" (alerting/delivery.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer


@contextmanager
def json_receiver() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"json://127.0.0.1:{server.server_port}/edustat", received
    finally:
        server.shutdown()
