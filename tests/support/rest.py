"""Talking to a server a test started: a free local port, JSON requests with a bearer token."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_json(url: str, data: dict | None = None, token: str | None = None
                 ) -> tuple[int, dict]:
    """(HTTP status, JSON body) of a GET, or a POST of `data`; an HTTP error is a status, not
    an exception (a refused connection still raises OSError)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
