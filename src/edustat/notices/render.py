"""Notices from templates: one template per kind of message, rendered once per language.

The templates (notices/templates) hold a message's structure once and take every word from
notices/wording.py, so Chinese and English cannot drift apart line by line. The output is plain
text on purpose (no autoescape, no markdown): WeCom and DingTalk show it as is, and Apprise turns
it into escaped HTML for email, so a value from a county file can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from edustat.alerting.digest import Digest, NotifyLevel
from edustat.divisions import county_name
from edustat.notices.model import FULL, SHORT, Limits, verdict_view
from edustat.notices.wording import EN_SEPARATOR, LANGS, TITLE_SEPARATOR, Lang, phrase, status_label

_env = Environment(
    loader=PackageLoader("edustat.notices", "templates"),
    autoescape=False,  # plain text, see the module docstring
    undefined=StrictUndefined,  # a renamed field fails loudly instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.do"],
)

_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
TITLE_LIMIT = 250


def _tidy(text: str) -> str:
    """One blank line at most between blocks, none at the ends, no trailing spaces."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines))


def _helpers(lang: Lang, lim: Limits) -> dict[str, Any]:
    t = partial(phrase, lang=lang)

    def county(code: str) -> str:
        return t("county", name=county_name(code) or t("unknown_division"), code=code)

    def year(school_year: int | None) -> str:
        return t("year", year=school_year) if school_year is not None else t("year_unknown")

    def examples(items: Sequence[tuple[int | None, str | None]]) -> str:
        shown = [t("example_row", row=row, value=value) if row is not None and value is not None
                 else t("example_row_only", row=row) if row is not None
                 else t("example_value", value=value)
                 for row, value in items]
        return t("examples", items=t("examples_sep").join(shown)) if shown else ""

    def names(codes: Sequence[str], limit: int) -> str:
        shown = t("list_sep").join(county(code) for code in codes[:limit])
        return shown + (t("more_names") if len(codes) > limit else "")

    return {"lang": lang, "lim": lim, "t": t, "county": county, "year": year,
            "examples": examples, "names": names,
            "status_label": partial(status_label, lang=lang)}


def _render(template: str, view: Any, lang: Lang, lim: Limits) -> tuple[str, str]:
    module = _env.get_template(template).make_module({"m": view, **_helpers(lang, lim)})
    return _tidy(module.title()), _tidy(str(module))


def _both(full: dict[str, tuple[str, str]]) -> str:
    return f"{full['zh'][1]}\n\n{EN_SEPARATOR}\n\n{full['en'][1]}"


def render_message(template: str, view: Any, severity: NotifyLevel,
                   fields: dict[str, Any], attachments: Sequence[Path] = ()) -> Digest:
    """The message: Chinese then English in full, a Chinese-only short body, a one-line title."""
    full = {lang: _render(template, view, lang, FULL) for lang in LANGS}
    _, short = _render(template, view, "zh", SHORT)
    title = TITLE_SEPARATOR.join(full[lang][0] for lang in LANGS)
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1] + "…"
    return Digest(
        title=title,
        body=_both(full),
        short_body=short,
        severity=severity,
        fields=fields,
        attachments=tuple(attachments),
    )


# `edustat check` lists more of a file's problems than a message does: it is the county's
# working list before the night (the rejection report still has every row).
CHECK = Limits(submissions=1, checks=30, examples=5, names=0, messages=True,
               accepted_list=False)


def render_verdict(verdict: Any, report: tuple[Path, Path] | None) -> str:
    """What `edustat check` prints: the verdict and the findings, Chinese then English."""
    view = verdict_view(verdict, report)
    return _both({lang: _render("check_verdict.txt.j2", view, lang, CHECK) for lang in LANGS})
