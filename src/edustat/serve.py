"""`edustat serve`: the generated site (reports, rejection reports, Data Docs, dbt docs) over HTTP.

A read-only static file server (Python's http.server, threaded), bound to 127.0.0.1 unless
--host says otherwise. It answers GET and HEAD only; it never lists a directory (a folder
without index.html is 404), never serves a file outside the site (a symlink pointing out of it,
`..`) or a hidden one (the temporary files of a page being written), and labels the site's
file types (Excel, CSV, PDF) so browsers open or download them as they should.
For production behind a real web server, see the docker `reports` service (nginx).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from edustat.config import Settings
from edustat.site import site_root

log = logging.getLogger(__name__)


class SiteHandler(SimpleHTTPRequestHandler):
    server_version = "edustat-serve"
    sys_version = ""
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".json": "application/json",
        ".csv": "text/csv; charset=utf-8",
        ".svg": "image/svg+xml",
        ".pdf": "application/pdf",
        ".woff2": "font/woff2",
        ".ttf": "font/ttf",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }

    def translate_path(self, path: str) -> str:
        translated = Path(super().translate_path(path))
        root = Path(self.directory).resolve()
        try:
            relative = translated.resolve().relative_to(root)
        except (ValueError, OSError):
            return str(root / ".forbidden")  # outside the site: answered 404
        if any(part.startswith(".") for part in relative.parts):
            return str(root / ".forbidden")
        return str(translated)

    def list_directory(self, path: str | os.PathLike[str]) -> None:  # type: ignore[override]
        self.send_error(HTTPStatus.NOT_FOUND, "No index here")
        return None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def _read_only(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _read_only

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """The server of the site at `root` (port 0: any free port; see server_address)."""
    handler = partial(SiteHandler, directory=str(Path(root).resolve()))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    root = site_root(settings)
    if not (root / "index.html").is_file():
        print(f"站点尚未生成，请先运行 edustat run 或 edustat report / the site at {root} is not"
              " generated yet: run `edustat run` or `edustat report` first", file=sys.stderr)
        return 1
    try:
        server = make_server(root, host, port)
    except OSError as exc:
        print(f"无法在 {host}:{port} 上监听 / cannot listen on {host}:{port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    bound_host, bound_port = server.server_address[:2]
    print(f"edustat 报告站点 site: http://{bound_host}:{bound_port}/ （{root}，只读 read-only；"
          "Ctrl-C 停止 stop）", flush=True)
    # Ctrl-C and `docker stop` (SIGTERM) both stop the server cleanly, even when it was
    # started with SIGINT ignored (a background job inherits that, and Python then never
    # raises KeyboardInterrupt).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
