"""Write the generated parts of docs/ from the code that holds each fact.

The docs are prose written by hand, except the tables whose facts live elsewhere and would
drift if copied: the CLI (edustat.cli's parser), the settings (edustat.config.SETTINGS), the
marts (dbt_project/models/marts/_marts__models.yml), the indicators, thresholds and policy
numbers (dbt_project/seeds/) and the plausibility bounds (edustat.rules.BOUNDS). Each sits
between two markers in its doc:

    <!-- generated: NAME (scripts/build_docs.py) -->
    …
    <!-- end generated: NAME -->

Run `python scripts/build_docs.py` after changing one of those sources (`make docs`);
`--check` exits 1 naming the blocks that are out of date (tests/test_docs.py runs the same
comparison).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SEEDS = REPO / "dbt_project" / "seeds"
MARTS_YAML = REPO / "dbt_project" / "models" / "marts" / "_marts__models.yml"

BEGIN = "<!-- generated: {name} (scripts/build_docs.py) -->"
END = "<!-- end generated: {name} -->"


def cell(text: object) -> str:
    """One Markdown table cell: a single line, pipes and angle brackets escaped."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# -- the CLI ------------------------------------------------------------------------------------

def _synopsis(name: str, parser: argparse.ArgumentParser) -> str:
    parts = [f"edustat {name}"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:
            parts.append(f"{action.dest.upper()}…" if action.nargs == argparse.REMAINDER
                         else action.dest.upper())
            continue
        flag = action.option_strings[-1]
        shown = flag if action.nargs == 0 else f"{flag} {action.metavar or action.dest.upper()}"
        if isinstance(action, argparse._AppendAction):
            shown += " …"
        parts.append(shown if action.required else f"[{shown}]")
    return " ".join(parts)


def cli_block() -> str:
    from edustat.cli import COMMANDS, INTERFACE_DOC, build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for cmd in COMMANDS:
        sub = subparsers.choices[cmd.name]
        out.append(f"### `edustat {cmd.name}`\n")
        out.append(f"*{cmd.summary}*\n")
        out.append(f"```\n{_synopsis(cmd.name, sub)}\n```\n")
        rows = []
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            name = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.dest.upper()}`"
            rows.append([name, action.help])
        if rows:
            out.append(table(["option", "meaning (default)"], rows) + "\n")
        examples = "\n".join(cmd.examples)
        out.append(f"Examples:\n\n```bash\n{examples}\n```\n")
        if cmd.docs != INTERFACE_DOC:
            out.append(f"More: [{cmd.docs}]({Path(cmd.docs).name}).\n")
    return "\n".join(out).rstrip()


# -- the settings -------------------------------------------------------------------------------

# A value each setting refuses, to show the words a user reads (the value itself is not shown
# here: the line names it as given). EDUSTAT_WORKER_NAME takes any text.
BAD_VALUES: dict[str, str] = {
    "EDUSTAT_HOME": str(REPO / "pyproject.toml"),
    "EDUSTAT_WAREHOUSE_DSN": "mysql://db/edustat",
    "EDUSTAT_JURISDICTION": "99",
    "EDUSTAT_ALERT_URLS": "someone@example.org",
    "EDUSTAT_ALERT_ALWAYS": "maybe",
    "EDUSTAT_MISSING_DEADLINE": "31-03",
    "EDUSTAT_MAX_FILE_BYTES": "lots",
    "EDUSTAT_MAX_EXPANDED_BYTES": "0",
    "EDUSTAT_MAX_COMPRESSION_RATIO": "1",
    "EDUSTAT_PUBLIC_URL": "ftp://example.org",
    "EDUSTAT_CONTACTS": "/nonexistent/contacts.csv",
    "EDUSTAT_FIRST_YEAR": "1999",
    "EDUSTAT_REMINDER_DAYS": "-1",
    "EDUSTAT_SETTLE_SECONDS": "soon",
    "EDUSTAT_TASK_QUEUES": "no_such_task=marts",
}


def settings_block() -> str:
    from edustat.config import SETTINGS

    rows = []
    for s in SETTINGS:
        bad = BAD_VALUES.get(s.env)
        if bad is None:
            says = "any text is accepted"
        else:
            try:
                s.parse(bad)
            except ValueError as exc:
                says = str(exc)
            else:  # a sample that passes would document a message that cannot happen
                raise SystemExit(f"build_docs: {s.env}={bad!r} is accepted; pick a bad value")
        default = f"`{s.default}`" if s.default else "(none)"
        secret = "; never shown in messages" if s.secret else ""
        rows.append([f"`{s.env}`", s.meaning + secret, default, says])
    return table(["variable", "meaning", "default", "a bad value says"], rows)


# -- the marts ----------------------------------------------------------------------------------

def _grain(model: dict) -> list[str]:
    for test in model.get("data_tests", []):
        if isinstance(test, dict) and "unique_combination" in test:
            return test["unique_combination"]["arguments"]["combination_of_columns"]
    raise SystemExit(f"build_docs: mart {model['name']} has no grain (unique_combination) test")


def marts_block() -> str:
    models = yaml.safe_load(MARTS_YAML.read_text(encoding="utf-8"))["models"]
    out = []
    for model in sorted(models, key=lambda m: m["meta"]["sheet_order"]):
        name, label = model["name"], model["meta"]["label"]
        grain = ", ".join(f"`{c}`" for c in _grain(model))
        out.append(f"### `marts.{name}` · {label}\n")
        out.append(" ".join(model["description"].split()) + "\n")
        out.append(f"Grain 粒度 (one row per): {grain}.\n")
        rows = []
        for column in model["columns"]:
            meta = column["meta"]
            unit = meta.get("unit", "")
            extra = []
            if "codes" in meta:
                extra.append(f"codes: `{meta['codes']}`")
            if "target" in meta:
                extra.append(f"target: `{meta['target']}`")
            rows.append([f"`{column['name']}`", column["data_type"], meta["label"], unit,
                         meta["format"] + (f" ({'; '.join(extra)})" if extra else ""),
                         column["description"]])
        out.append(table(["column", "type", "标签 label", "单位 unit", "format", "description"],
                         rows) + "\n")
    return "\n".join(out).rstrip()


# -- seeds: indicators, thresholds, policy ------------------------------------------------------

def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def indicators_block() -> str:
    thresholds = {(r["method"], r["section"], r["indicator"]): r
                  for r in _seed("indicator_thresholds.csv")}

    def pair(method: str, indicator: str, field: str) -> str:
        values = [thresholds.get((method, s, indicator), {}).get(field) or "—"
                  for s in ("primary", "junior")]
        return " / ".join(values) if values != ["—", "—"] else ""

    rows = []
    for r in sorted(_seed("indicators.csv"), key=lambda r: int(r["sort_order"])):
        key = r["indicator"]
        methods = [m for m in ("2017", "2012") if any(k[0] == m and k[2] == key
                                                      for k in thresholds)]
        unit = f"{r['value_unit_zh']} ({r['value_unit_en']})" if r["value_unit_zh"] else ""
        rows.append([f"`{key}`", f"{r['name_zh']} / {r['name_en']}", unit,
                     r["per_students"], ", ".join(methods),
                     pair("2017", key, "school_min_value"), pair("2017", key, "cv_limit"),
                     pair("2012", key, "cv_limit")])
    return table(["indicator", "名称 / name", "单位 unit", "k", "methods",
                  "2017 school standard (primary / junior)", "2017 CV limit (p / j)",
                  "2012 CV limit (p / j)"], rows)


def policy_block() -> str:
    rows = [[f"`{r['parameter']}`", r["value"], r["unit"], r["description_zh"],
             r["description_en"]] for r in _seed("policy_parameters.csv")]
    return table(["parameter", "value", "单位 unit", "说明", "meaning"], rows)


# -- plausibility bounds ------------------------------------------------------------------------

def bounds_block() -> str:
    from edustat.columns import BY_KEY
    from edustat.rules import BOUNDED_ELSEWHERE, BOUNDS

    rows = []
    for b in BOUNDS:
        _, formula_en = b.formula()
        column = BY_KEY[b.column]
        rows.append([f"{column.header} (`{b.column}`)", b.severity, f"`{b.rule_id}`",
                     f"≤ {formula_en}", f"{b.reason_zh} / {b.reason_en}"])
    elsewhere = ", ".join(f"`{k}`" for k in sorted(BOUNDED_ELSEWHERE))
    return (table(["column", "severity", "rule", "limit (value must be)", "why 理由"], rows)
            + f"\n\nBounded by another rule instead (the teacher subsets by the section's "
              f"teachers, 大班额 by the classes): {elsewhere}.")


# -- the blocks and where they go ---------------------------------------------------------------

BLOCKS: dict[str, tuple[str, Callable[[], str]]] = {
    "cli": ("docs/interface.md", cli_block),
    "settings": ("docs/interface.md", settings_block),
    "marts": ("docs/interface.md", marts_block),
    "indicators": ("docs/methodology.md", indicators_block),
    "policy": ("docs/methodology.md", policy_block),
    "bounds": ("docs/methodology.md", bounds_block),
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(BEGIN.format(name=name)) + r"\n.*?" +
                      re.escape(END.format(name=name)), re.DOTALL)


def render(text: str, name: str, body: str) -> str:
    """`text` with block `name` replaced by `body`; the markers must be there once."""
    pattern = _pattern(name)
    if len(pattern.findall(text)) != 1:
        raise SystemExit(f"build_docs: the markers of block {name!r} are missing or repeated")
    replacement = f"{BEGIN.format(name=name)}\n{body}\n{END.format(name=name)}"
    return pattern.sub(lambda _: replacement, text)


def rendered() -> dict[Path, tuple[str, str]]:
    """Each doc with generated blocks: (text on disk, text as it should be)."""
    docs: dict[Path, tuple[str, str]] = {}
    for name, (doc, build) in BLOCKS.items():
        path = REPO / doc
        current, wanted = docs.get(path, (path.read_text(encoding="utf-8"),) * 2)
        docs[path] = (current, render(wanted, name, build()))
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a generated block is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, (current, wanted) in rendered().items():
        if current != wanted:
            stale.append(path.relative_to(REPO))
            if not args.check:
                path.write_text(wanted, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'written'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
