"""How a message names a generated page: a URL under EDUSTAT_PUBLIC_URL, or its path in words.

Notices and digests leave the server (mail, DingTalk), so they never carry a `file://` URL:
with a public URL the page is linked where the site is served (`edustat serve`, the docker
reports service); without one the reader is told where the file lies on the server.
"""

from __future__ import annotations

from pathlib import Path

from edustat.config import Settings


def site_path(settings: Settings, path: Path) -> str:
    """The page's path inside the served site (URL path, '/'-separated, no leading '/')."""
    return Path(path).resolve().relative_to(settings.home).as_posix()


def public_link(settings: Settings, path: Path) -> str:
    """A link a person can follow from a message, or the server path in words."""
    if settings.public_url:
        return f"{settings.public_url}/{site_path(settings, path)}"
    return f"服务器文件 server file: {Path(path).resolve()}"
