"""One digest per run: rejected counties with their top reasons, warnings, late counties.

The body is plain text (no markdown) on purpose: it is shown as is by WeCom and DingTalk
text messages and turned into escaped HTML for email, so a value from a county file can
never become markup. Each fact is one line; sections are separated by blank lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from edustat.alerting.deadline import local_day
from edustat.alerting.digest import Digest, NotifyLevel
from edustat.alerting.run_facts import CheckSummary, Decision, LateCounty, RunFacts, load_run_facts
from edustat.alerting.text import clip, county_en, county_zh, report_link
from edustat.columns import label
from edustat.config import Settings
from edustat.divisions import county_name


@dataclass(frozen=True)
class _Limits:
    """How much of each section one message shows; the report has everything."""

    submissions: int
    checks: int
    examples: int
    names: int
    messages: bool  # describe unknown checks by their first failing row's message
    accepted_list: bool


FULL = _Limits(submissions=20, checks=5, examples=3, names=60, messages=True, accepted_list=True)
SHORT = _Limits(submissions=5, checks=2, examples=2, names=12, messages=False, accepted_list=False)
# Checks per submission in the JSON fields: enough for a bot, bounded for a national night.
FIELD_CHECKS = 20


def build_digest(
    dsn: str,
    run_id: str,
    settings: Settings,
    report_url: str | None,
    expected_counties: list[str],
    years: list[int],
) -> Digest | None:
    """The run's digest, or None when nothing is wrong and settings.alert_always is off.

    expected_counties × years is what the late-county check covers (the pipeline knows the
    jurisdiction); the deadline is judged on the run's logical date from ops.runs.
    """
    facts = load_run_facts(dsn, run_id, expected_counties, years, settings.missing_deadline)
    if not _something_wrong(facts) and not settings.alert_always:
        return None
    return render_run_digest(facts, settings, report_url)


def _something_wrong(facts: RunFacts) -> bool:
    return bool(
        facts.rejected
        or facts.held
        or facts.accepted_with_warnings
        or facts.late
        or facts.run_status == "failed"
        or facts.late_check_problem
    )


def _severity(facts: RunFacts) -> NotifyLevel:
    if facts.rejected or facts.held or facts.run_status == "failed":
        return "failure"
    if facts.accepted_with_warnings or facts.late or facts.late_check_problem:
        return "warning"
    return "success" if facts.decisions else "info"


def render_run_digest(facts: RunFacts, settings: Settings, report_url: str | None) -> Digest:
    links = {
        d.submission_id: report_link(d.report_path, settings.reports, report_url)
        for d in facts.decisions
    }
    zh_full = _zh(facts, report_url, links, FULL)
    en_full = _en(facts, report_url, links, FULL)
    body = "\n".join([*zh_full, "", "—— English ——", "", *en_full])
    return Digest(
        title=_title(facts),
        body=body,
        short_body="\n".join(_zh(facts, report_url, links, SHORT)),
        severity=_severity(facts),
        fields=_fields(facts, report_url, links),
    )


def _day(facts: RunFacts) -> str:
    return local_day(facts.logical_date).isoformat() if facts.logical_date else "?"


def _title(facts: RunFacts) -> str:
    zh: list[str] = []
    en: list[str] = []
    if facts.run_status == "failed":
        zh.append("运行失败")
        en.append("run failed")
    if facts.rejected:
        names = "、".join(county_zh(d.county_code) for d in facts.rejected[:3])
        more = "等" if len(facts.rejected) > 3 else ""
        zh.append(f"退回 {len(facts.rejected)}（{names}{more}）")
        en.append(f"{len(facts.rejected)} rejected")
    if facts.held:
        zh.append(f"暂缓发布 {len(facts.held)}")
        en.append(f"{len(facts.held)} held")
    if facts.accepted_with_warnings:
        zh.append(f"警告 {len(facts.accepted_with_warnings)}")
        en.append(f"{len(facts.accepted_with_warnings)} with warnings")
    if facts.late:
        zh.append(f"逾期未报 {len(facts.late)}")
        en.append(f"{len(facts.late)} late")
    zh.append(f"通过 {len(facts.accepted)}")
    en.append(f"{len(facts.accepted)} accepted")
    title = f"【edustat】{_day(facts)} 夜间汇总：{'，'.join(zh)} | Nightly digest: {', '.join(en)}"
    return clip(title, 250)


# ---- Chinese ---------------------------------------------------------------------------------


def _zh(
    facts: RunFacts, report_url: str | None, links: dict[int, str | None], lim: _Limits
) -> list[str]:
    lines = [f"edustat 夜间运行 {facts.run_id}（逻辑日期 {_day(facts)}）"]
    if facts.run_status == "failed":
        detail = f"（{clip(facts.run_message, 200)}）" if facts.run_message else ""
        lines.append(f"运行状态：失败{detail}")
    lines.append(
        f"本次：通过 {len(facts.accepted)} 个，退回 {len(facts.rejected)} 个，"
        f"有警告 {len(facts.accepted_with_warnings)} 个，逾期未报 {len(facts.late)} 个，"
        f"重复文件 {facts.duplicates} 个。"
    )
    if report_url:
        lines.append(f"完整报告：{report_url}")
    if facts.late_check_problem:
        lines.append(f"注意：{facts.late_check_problem}")

    if facts.rejected:
        lines += ["", "【退回：请县区修正后重报】"]
        lines += _zh_decisions(facts.rejected, links, lim)
    if facts.held:
        lines += ["", "【暂缓发布：文件通过校验，但导致指标计算失败，"
                  "原有数据继续使用；平台技术人员处理】"]
        lines += [f"- {county_zh(d.county_code)} {_year_zh(d)}「{clip(d.file_name)}」："
                  f"{clip(d.held_reason, 300)}" for d in facts.held[: lim.submissions]]
    if facts.accepted_with_warnings:
        lines += ["", "【已接收，但有警告：请县区核实】"]
        lines += _zh_decisions(facts.accepted_with_warnings, links, lim)
    if facts.late:
        lines += ["", "【逾期：截止日期已过，仍无有效报送】"]
        for year, deadline, state, counties in _late_groups(facts.late):
            what = "未报送" if state == "missing" else "报送均被退回"
            lines.append(
                f"- {year}年度（截止 {deadline}）{what} {len(counties)} 个："
                f"{_names(counties, county_zh, '、', lim.names, '等')}"
            )
    if facts.accepted and lim.accepted_list:
        lines += ["", "【已通过】"]
        for d in facts.accepted[: lim.submissions]:
            replaced = (
                f"，替换此前的报送 #{d.replaced_submission_id}" if d.replaced_submission_id else ""
            )
            lines.append(
                f"- {county_zh(d.county_code)} {_year_zh(d)}「{clip(d.file_name)}」{replaced}"
            )
        if len(facts.accepted) > lim.submissions:
            lines.append(f"- ……另有 {len(facts.accepted) - lim.submissions} 个，详见报告")
    return lines


def _year_zh(d: Decision) -> str:
    return f"{d.school_year}年度" if d.school_year is not None else "年度不明"


def _zh_decisions(
    decisions: Sequence[Decision], links: dict[int, str | None], lim: _Limits
) -> list[str]:
    lines: list[str] = []
    for d in decisions[: lim.submissions]:
        lines += [
            "",
            f"{county_zh(d.county_code)} {_year_zh(d)}，文件「{clip(d.file_name)}」："
            f"错误 {d.errors} 条，警告 {d.warnings} 条",
            "",
        ]
        # The reason sums up the same findings; it is only news when there are none to list.
        if d.status == "rejected" and d.rejection_reason and not d.checks:
            lines.append(f"- 退回原因：{clip(d.rejection_reason, 300)}")
        shown = _checks_for(d, lim)
        for c in shown:
            examples = "；".join(
                f"第{e.row_number}行「{clip(e.value, 40)}」"
                if e.row_number is not None
                else f"「{clip(e.value, 40)}」"
                for e in c.examples[: lim.examples]
                if e.value is not None or e.row_number is not None
            )
            what = _describe(c, "zh", lim)
            line = f"- {_subject(c)}：{what + ' — ' if what else ''}{c.count} 处"
            if examples:
                line += f"，例：{examples}"
            lines.append(f"{line} [{c.check_id}]")
        hidden = len(d.checks) - len(shown)
        if hidden > 0:
            lines.append(f"- 另有 {hidden} 项检查未列出，详见报告")
        if links.get(d.submission_id):
            lines.append(f"- 报告：{links[d.submission_id]}")
    if len(decisions) > lim.submissions:
        lines += ["", f"……另有 {len(decisions) - lim.submissions} 个，详见报告"]
    return lines


# ---- English ---------------------------------------------------------------------------------


def _en(
    facts: RunFacts, report_url: str | None, links: dict[int, str | None], lim: _Limits
) -> list[str]:
    lines = [f"edustat nightly run {facts.run_id} (logical date {_day(facts)})"]
    if facts.run_status == "failed":
        detail = f" ({clip(facts.run_message, 200)})" if facts.run_message else ""
        lines.append(f"Run status: failed{detail}")
    lines.append(
        f"This run: accepted {len(facts.accepted)}, rejected {len(facts.rejected)}, "
        f"accepted with warnings {len(facts.accepted_with_warnings)}, late {len(facts.late)}, "
        f"duplicate files {facts.duplicates}."
    )
    if report_url:
        lines.append(f"Full report: {report_url}")
    if facts.late_check_problem:
        lines.append(f"Note: {facts.late_check_problem}")

    if facts.rejected:
        lines += ["", "[Rejected: the county must fix the file and resubmit]"]
        lines += _en_decisions(facts.rejected, links, lim)
    if facts.held:
        lines += ["", "[Held: passed validation but broke the marts build; the previous data "
                  "keeps serving; for the platform team]"]
        lines += [f'- {county_en(d.county_code)}, {_year_en(d)}, "{clip(d.file_name)}": '
                  f"{clip(d.held_reason, 300)}" for d in facts.held[: lim.submissions]]
    if facts.accepted_with_warnings:
        lines += ["", "[Accepted with warnings: the county should check]"]
        lines += _en_decisions(facts.accepted_with_warnings, links, lim)
    if facts.late:
        lines += ["", "[Late: the deadline has passed without a valid submission]"]
        for year, deadline, state, counties in _late_groups(facts.late):
            what = "nothing received" if state == "missing" else "only rejected files"
            lines.append(
                f"- school year {year} (deadline {deadline}), {what} ({len(counties)}): "
                f"{_names(counties, county_en, ', ', lim.names, ' and more')}"
            )
    if facts.accepted and lim.accepted_list:
        lines += ["", "[Accepted]"]
        for d in facts.accepted[: lim.submissions]:
            replaced = (
                f", replaces submission #{d.replaced_submission_id}"
                if d.replaced_submission_id
                else ""
            )
            lines.append(
                f'- {county_en(d.county_code)}, {_year_en(d)}, "{clip(d.file_name)}"{replaced}'
            )
        if len(facts.accepted) > lim.submissions:
            lines.append(f"- ... and {len(facts.accepted) - lim.submissions} more, see the report")
    return lines


def _year_en(d: Decision) -> str:
    return f"school year {d.school_year}" if d.school_year is not None else "year unknown"


def _en_decisions(
    decisions: Sequence[Decision], links: dict[int, str | None], lim: _Limits
) -> list[str]:
    lines: list[str] = []
    for d in decisions[: lim.submissions]:
        lines += [
            "",
            f'{county_en(d.county_code)}, {_year_en(d)}, file "{clip(d.file_name)}": '
            f"errors {d.errors}, warnings {d.warnings}",
            "",
        ]
        if d.status == "rejected" and d.rejection_reason and not d.checks:
            lines.append(f"- Rejected because: {clip(d.rejection_reason, 300)}")
        shown = _checks_for(d, lim)
        for c in shown:
            examples = "; ".join(
                f'row {e.row_number} "{clip(e.value, 40)}"'
                if e.row_number is not None
                else f'"{clip(e.value, 40)}"'
                for e in c.examples[: lim.examples]
                if e.value is not None or e.row_number is not None
            )
            what = _describe(c, "en", lim)
            line = f"- {_subject(c)}: {what + ' — ' if what else ''}{c.count} failing"
            if examples:
                line += f", e.g. {examples}"
            lines.append(f"{line} [{c.check_id}]")
        hidden = len(d.checks) - len(shown)
        if hidden > 0:
            lines.append(f"- {hidden} more checks failed, see the report")
        if links.get(d.submission_id):
            lines.append(f"- Report: {links[d.submission_id]}")
    if len(decisions) > lim.submissions:
        lines += ["", f"... and {len(decisions) - lim.submissions} more, see the report"]
    return lines


# ---- shared --------------------------------------------------------------------------------


def _checks_for(d: Decision, lim: _Limits) -> list[CheckSummary]:
    # A rejected file is about its errors; an accepted one can only have warnings to show.
    relevant = [c for c in d.checks if d.status == "rejected" or c.severity == "warning"]
    return relevant[: lim.checks]


def _subject(c: CheckSummary) -> str:
    """What the county has to look at: the column, else the check itself."""
    return label(c.column) if c.column else c.check_id


@cache
def _rule_texts() -> dict[str, tuple[str, str]]:
    """check_id -> the rule's own wording, for ids that have one wording only."""
    from edustat.rules import RULES

    texts: dict[str, set[tuple[str, str]]] = {}
    for rule in RULES:
        texts.setdefault(rule.rule_id, set()).add((rule.zh, rule.en))
    return {rule_id: next(iter(t)) for rule_id, t in texts.items() if len(t) == 1}


def _describe(c: CheckSummary, lang: str, lim: _Limits) -> str:
    """The rule in words; for checks outside rules.py (reading, history) the first
    failing row's message, which carries its own row and value."""
    known = _rule_texts().get(c.check_id)
    if known:
        return known[0] if lang == "zh" else known[1]
    if not lim.messages:
        return ""
    return clip(c.message_zh if lang == "zh" else c.message_en, 160)


def _late_groups(late: Sequence[LateCounty]) -> list[tuple[int, str, str, list[str]]]:
    groups: dict[tuple[int, str, str], list[str]] = {}
    for item in late:
        key = (item.school_year, item.deadline.isoformat(), item.state)
        groups.setdefault(key, []).append(item.county_code)
    return [(y, d, s, counties) for (y, d, s), counties in sorted(groups.items())]


def _names(codes: list[str], fmt: Callable[[str], str], sep: str, limit: int, more: str) -> str:
    shown = sep.join(fmt(code) for code in codes[:limit])
    return shown + (more if len(codes) > limit else "")


def _fields(
    facts: RunFacts, report_url: str | None, links: dict[int, str | None]
) -> dict[str, Any]:
    def decision(d: Decision, with_checks: bool = True) -> dict[str, Any]:
        shown = d.checks[:FIELD_CHECKS] if with_checks else ()
        return {
            "submission_id": d.submission_id,
            "county_code": d.county_code,
            "county_name": county_name(d.county_code),
            "school_year": d.school_year,
            "file_name": d.file_name,
            "status": d.status,
            "errors": d.errors,
            "warnings": d.warnings,
            "rejection_reason": d.rejection_reason,
            "held_reason": d.held_reason,
            "report": links.get(d.submission_id),
            "replaced_submission_id": d.replaced_submission_id,
            "checks_total": len(d.checks),
            "checks": [
                {
                    "check_id": c.check_id,
                    "severity": c.severity,
                    "column": c.column,
                    "count": c.count,
                    "examples": [
                        {"row_number": e.row_number, "value": e.value, "school_code": e.school_code}
                        for e in c.examples
                    ],
                    "message_zh": c.message_zh,
                    "message_en": c.message_en,
                }
                for c in shown
            ],
        }

    return {
        "kind": "run_digest",
        "run_id": facts.run_id,
        "logical_date": facts.logical_date.isoformat() if facts.logical_date else None,
        "run_status": facts.run_status,
        "report_url": report_url,
        "counts": {
            "accepted": len(facts.accepted),
            "rejected": len(facts.rejected),
            "held": len(facts.held),
            "accepted_with_warnings": len(facts.accepted_with_warnings),
            "late": len(facts.late),
            "duplicates": facts.duplicates,
        },
        "rejected": [decision(d) for d in facts.rejected],
        "held": [decision(d) for d in facts.held],
        "warnings": [decision(d) for d in facts.accepted_with_warnings],
        # Their warnings are already under "warnings"; a national night accepts thousands.
        "accepted": [decision(d, with_checks=False) for d in facts.accepted],
        "late": [
            {
                "county_code": item.county_code,
                "county_name": county_name(item.county_code),
                "school_year": item.school_year,
                "deadline": item.deadline.isoformat(),
                "state": item.state,
            }
            for item in facts.late
        ],
        "problem": facts.late_check_problem,
    }
