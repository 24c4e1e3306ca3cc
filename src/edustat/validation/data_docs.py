"""GX Data Docs that work offline: their CDN CSS/JS bundled, the pages published into the site.

Great Expectations writes Data Docs whose pages load Bootstrap, jQuery, Font Awesome, Vega and
bootstrap-table from public CDNs; on a provincial intranet they render unstyled with an empty
result list. `make assets` installs exactly those packages from npm (assets/data-docs/
package.json + package-lock.json, pinned), nothing is fetched at run time, and
`publish_data_docs` copies the Data Docs into the site with every CDN reference pointed at the
bundled copy (relative links, so the tree works under any URL). When the assets are not
installed the references are still rewritten (the pages load nothing from the internet) and
the missing files are named in the log.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from edustat.config import REPO_ROOT

log = logging.getLogger(__name__)

ASSETS = REPO_ROOT / "assets" / "data-docs" / "node_modules"
VENDOR = "static/vendor"

# CDN URL in GX's templates -> file of the pinned npm package (assets/data-docs/package.json).
CDN_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    # bootstrap 4.3.1 needs popper ^1.14.7: the last 1.x, where GX names 1.12.9.
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Files the bundled CSS loads in turn (Font Awesome's ../webfonts/).
EXTRA_DIRS = ("@fortawesome/fontawesome-free/webfonts",)

_URL = re.compile("|".join(re.escape(u) for u in sorted(CDN_FILES, key=len, reverse=True)))
# Subresource integrity of the CDN files: a local copy of another build must not be refused.
_SRI = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
# GX's logo, fetched from its web-assets bucket with the data context id as a query string (a
# tracking pixel): the same logo ships in the Data Docs' own static/images.
_LOGO = re.compile(r"https://great-expectations-web-assets\.[^\"')\s]*logo-long\.png[^\"')\s]*")
_LOGO_LOCAL = "static/images/logo-long-vector.svg"
_CSS_REMOTE = re.compile(r"url\(\s*['\"]?https?://[^)]*\)")
# GX writes the favicon link of deep pages one folder too shallow.
_FAVICON = re.compile(r'href="(?:\.\./|\./)*static/images/favicon\.ico"')
# Links out to GX's website, docs and newsletter: dead on an intranet; kept as text.
_LINK_OUT = re.compile(r'(<a\b[^>]*?)\s+href="https?://[^"]*"')


def bundle(target: Path, assets: Path = ASSETS) -> list[str]:
    """Copy the bundled files under `target`/static/vendor; returns those missing."""
    missing = []
    for rel in [*CDN_FILES.values(), *EXTRA_DIRS]:
        source, dest = assets / rel, target / VENDOR / rel
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        elif source.is_file():
            if not dest.is_file() or dest.stat().st_size != source.stat().st_size:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, dest)
        else:
            missing.append(rel)
    return missing


def offline_html(html: str, depth: int) -> str:
    """A Data Docs page (or stylesheet) `depth` folders below the Data Docs root with every
    CDN reference pointed at the bundled copy and nothing else left to fetch from outside."""
    up = "../" * depth
    html = _URL.sub(lambda m: up + VENDOR + "/" + CDN_FILES[m.group(0)], html)
    html = _LOGO.sub(up + _LOGO_LOCAL, html)
    html = _FAVICON.sub(f'href="{up}static/images/favicon.ico"', html)
    html = _CSS_REMOTE.sub("none", html)
    html = _LINK_OUT.sub(r"\1", html)
    return _SRI.sub("", html)


def publish_data_docs(source: Path, target: Path) -> Path | None:
    """Publish the Data Docs site at `source` (GX's local_site) into `target` (site/data-docs),
    offline; returns the published index, None when GX has not built Data Docs yet."""
    if not (source / "index.html").is_file():
        return None
    missing = bundle(target)
    if missing:
        log.error("Data Docs assets missing (run `make assets`): %s", ", ".join(missing))
    for path in source.rglob("*"):
        rel = path.relative_to(source)
        dest = target / rel
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if dest.is_file() and dest.stat().st_mtime >= path.stat().st_mtime:
            continue  # published already (validation pages never change once written)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".html", ".css"):
            text = offline_html(path.read_text(encoding="utf-8"), len(rel.parts) - 1)
            tmp = dest.with_name(f".{dest.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, dest)
        else:
            shutil.copyfile(path, dest)
        os.chmod(dest, 0o644)
    return target / "index.html"
