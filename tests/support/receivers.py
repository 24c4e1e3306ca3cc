"""Real local receivers for alert tests: an SMTP server (aiosmtpd) and HTTP endpoints.

    def test_x(http_receiver, smtp_server): ...   # fixtures, via `from support.receivers import *`

The HTTP receiver records every POST (host, path, JSON payload) and answers with queued status
codes, then 200; the mailbox parses every message it is sent.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@dataclasses.dataclass
class Received:
    host: str
    path: str
    payload: dict[str, Any]


class HttpReceiver:
    """Records every POST; answers with the queued status codes, then 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def handler(self, tls_host: str | None = None) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        Received(tls_host or self.headers["Host"], self.path, json.loads(data))
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                # What the real services answer: Slack webhooks a bare "ok", the others JSON.
                slack = (tls_host or "").startswith("hooks.slack.com")
                out = b"ok" if slack else b'{"ok": true, "errcode": 0, "errmsg": "ok"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def http_receiver() -> Iterator[tuple[int, HttpReceiver]]:
    receiver = HttpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], receiver
    finally:
        server.shutdown()
        server.server_close()
