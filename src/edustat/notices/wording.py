"""Every phrase of the notices, once, in Chinese and English side by side.

The templates (notices/templates/*.txt.j2) hold the structure of a message once; they are
rendered once per language and take their words from here through `t(key, ...)`. Values
from county files reach the text only through these format fields, already clipped to one
line (edustat.alerting.text.clip): the bodies are plain text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edustat.reports.labels import code_labels

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

# Where a county-year stands (ops.county_year_status): the one wording of every status, the
# code-label seed the marts, reports and CLI read too.
STATUS_LABELS: dict[str, tuple[str, str]] = code_labels()["status"]

PHRASES: dict[str, tuple[str, str]] = {
    # shared pieces
    "county": ("{name}（{code}）", "{name} ({code})"),
    "unknown_division": ("未知区划", "unknown division"),
    "year": ("{year}年度", "school year {year}"),
    "year_unknown": ("年度不明", "year unknown"),
    "list_sep": ("、", ", "),
    "more_names": ("等", " and more"),
    "example_row": ("第{row}行「{value}」", "row {row} \"{value}\""),
    "example_row_only": ("第{row}行", "row {row}"),
    "example_value": ("「{value}」", "\"{value}\""),
    "examples": ("，例：{items}", ", e.g. {items}"),
    "examples_sep": ("；", "; "),
    "check_line": (
        "- {subject}：{what}{count} 处{examples} [{check_id}]",
        "- {subject}: {what}{count} failing{examples} [{check_id}]",
    ),
    "more_checks": (
        "- 另有 {n} 项检查未列出，详见报告",
        "- {n} more checks failed, see the report",
    ),
    "rejected_because": ("- 退回原因：{reason}", "- Rejected because: {reason}"),
    "held_because": ("- 暂缓原因：{reason}", "- Held because: {reason}"),
    "report": ("- 报告：{link}", "- Report: {link}"),
    "more_files": ("……另有 {n} 个，详见报告", "... and {n} more, see the report"),
    "deadline_state_missing": ("未报送", "nothing received"),
    "deadline_state_rejected_only": ("报送均被退回", "only rejected files"),
    # the digest (national, prefecture, province)
    "digest_title": ("【edustat】{day} {scope}夜间汇总：{parts}", "Nightly digest{scope}: {parts}"),
    "digest_title_scope": ("{name}", " ({name})"),
    "digest_head": (
        "edustat 夜间运行 {run}（逻辑日期 {day}）{scope}",
        "edustat nightly run {run} (logical date {day}){scope}",
    ),
    "digest_scope": ("，范围：{name}", ", for {name}"),
    "run_failed": ("运行状态：失败{detail}", "Run status: failed{detail}"),
    "run_failed_detail": ("（{message}）", " ({message})"),
    "digest_counts": (
        "本次：通过 {accepted} 个，退回 {rejected} 个，有警告 {warned} 个，暂缓 {held} 个，逾期"
        "未报 {late} 个，重复文件 {duplicates} 个。",
        "This run: accepted {accepted}, rejected {rejected}, accepted with warnings {warned}, he"
        "ld {held}, late {late}, duplicate files {duplicates}.",
    ),
    "full_report": ("完整报告：{link}", "Full report: {link}"),
    "note": ("注意：{text}", "Note: {text}"),
    "note_no_run": ("ops.runs 中没有运行 {run}", "run {run} is not in ops.runs"),
    "note_bad_deadline": (
        "EDUSTAT_MISSING_DEADLINE 设置无效，未检查逾期县区：{error}",
        "invalid EDUSTAT_MISSING_DEADLINE, late counties not checked: {error}",
    ),
    "section_rejected": (
        "【退回：请县区修正后重报】",
        "[Rejected: the county must fix the file and resubmit]",
    ),
    "section_held": (
        "【暂缓入库：文件通过校验，但汇总构建失败，原数据继续使用】",
        "[Held: the file passed validation but broke the marts build; the previous data keeps se"
        "rving]",
    ),
    "section_warned": (
        "【已接收，但有警告：请县区核实】",
        "[Accepted with warnings: the county should check]",
    ),
    "section_late": (
        "【逾期：截止日期已过，仍无有效报送】",
        "[Late: the deadline has passed without a valid submission]",
    ),
    "section_due": ("【即将截止：尚无有效报送】", "[Due soon: no valid submission yet]"),
    "section_accepted": ("【已通过】", "[Accepted]"),
    "section_problems": (
        "【联系人文件问题：以下行未使用】",
        "[Contacts file problems: these rows are not used]",
    ),
    "section_undelivered": ("【以下通知未能送达】", "[These notices could not be delivered]"),
    "file_head": (
        "{county} {year}，文件「{file}」：错误 {errors} 条，警告 {warnings} 条",
        "{county}, {year}, file \"{file}\": errors {errors}, warnings {warnings}",
    ),
    "deadline_group": (
        "- {year}（截止 {deadline}）{state} {n} 个：{names}",
        "- {year} (deadline {deadline}), {state} ({n}): {names}",
    ),
    "accepted_line": (
        "- {county} {year}「{file}」{replaced}",
        "- {county}, {year}, \"{file}\"{replaced}",
    ),
    "replaces": ("，替换此前的报送 #{id}", ", replaces submission #{id}"),
    "more_accepted": ("- ……另有 {n} 个，详见报告", "- ... and {n} more, see the report"),
    "undelivered_line": ("- {what} → {destination}：{error}", "- {what} → {destination}: {error}"),
    "national_digest": ("全国夜间汇总", "the national digest"),
    "title_failed": ("运行失败", "run failed"),
    "title_rejected": ("退回 {n}（{names}）", "{n} rejected"),
    "title_held": ("暂缓 {n}", "{n} held"),
    "title_warned": ("警告 {n}", "{n} with warnings"),
    "title_late": ("逾期未报 {n}", "{n} late"),
    "title_accepted": ("通过 {n}", "{n} accepted"),
    "title_sep": ("，", ", "),
    # the county's own notice
    "county_title": ("【edustat】{county} {day} 报送结果：{parts}", "edustat results: {parts}"),
    "county_title_reminder": (
        "【edustat】{county} {day} 报送提醒：{parts}",
        "edustat reminder: {parts}",
    ),
    "county_part": ("{year}{status}", "{year} {status}"),
    "county_part_due": ("{year}即将截止", "{year} due soon"),
    "county_part_late": ("{year}逾期", "{year} late"),
    "county_head": (
        "{county}：edustat 夜间处理结果（逻辑日期 {day}）",
        "{county}: edustat nightly results (logical date {day})",
    ),
    "county_head_reminder": (
        "{county}：edustat 报送提醒（逻辑日期 {day}）",
        "{county}: edustat submission reminder (logical date {day})",
    ),
    "county_rejected": (
        "【已退回，请修正后重新报送】{year}，文件「{file}」：错误 {errors} 条，警告 {warnings} "
        "条",
        "[Rejected: please fix the file and resubmit] {year}, file \"{file}\": errors {errors}, wa"
        "rnings {warnings}",
    ),
    "county_accepted": (
        "【已接收】{year}，文件「{file}」：学校 {schools} 所，警告 {warnings} 条",
        "[Accepted] {year}, file \"{file}\": {schools} schools, warnings {warnings}",
    ),
    "county_held": (
        "【已通过校验，暂缓入库】{year}，文件「{file}」：学校 {schools} 所；此前已接收的数据继续"
        "使用",
        "[Passed validation, held] {year}, file \"{file}\": {schools} schools; the data accepted b"
        "efore keeps serving",
    ),
    "county_replaces": (
        "- 替换此前接收的报送 #{id}",
        "- Replaces the submission accepted before, #{id}",
    ),
    "county_report": (
        "- 完整退回报告（每一行、每一列）：{link}",
        "- Full rejection report (every row and column): {link}",
    ),
    "county_reminder": (
        "【提醒】{year}报送截止 {deadline}（还剩 {days} 天），尚未收到有效报送{state}，请按时报"
        "送",
        "[Reminder] {year} is due on {deadline} ({days} days left) and no valid submission has a"
        "rrived{state}: please submit in time",
    ),
    "county_late": (
        "【逾期】{year}已于 {deadline} 截止，仍未收到有效报送{state}，请尽快报送",
        "[Late] {year} was due on {deadline} and no valid submission has arrived{state}: please "
        "submit as soon as possible",
    ),
    "county_state_rejected_only": ("（收到的文件均被退回）", " (every file received was rejected)"),
    # `edustat check`
    "check_head": ("edustat 预检：{county} {year}，文件「{file}」",
                   'edustat check: {county}, {year}, file "{file}"'),
    "check_accept": ("结论：夜间运行将接收此文件（错误 0 条，警告 {warnings} 条）",
                     "Verdict: the night would ACCEPT this file (0 errors, {warnings} warnings)"),
    "check_reject": ("结论：夜间运行将退回此文件（错误 {errors} 条，警告 {warnings} 条）",
                     "Verdict: the night would REJECT this file ({errors} errors, {warnings} "
                     "warnings)"),
    "check_report": ("完整退回报告（每一行、每一列）：{html}；表格：{csv}",
                     "Full rejection report (every row and column): {html}; spreadsheet: {csv}"),
    "check_history": ("已与已接收的往年数据做同比检查",
                      "year-over-year checks run against the accepted history"),
    "check_no_warehouse": (
        "未连接数据仓库，未做同比检查（夜间运行会做）",
        "no warehouse reachable: year-over-year checks not run (the night runs them)",
    ),
    "check_no_year": ("文件中没有统计年度，未做同比检查",
                      "no school year in the file: no year-over-year checks"),
    "check_duplicate": (
        "相同内容的文件已报送过（报送 #{id}，{status}），夜间运行会将其记为重复",
        "the same bytes were submitted before (#{id}, {status}): the night records this file "
        "as a duplicate",
    ),
    "check_other_year": (
        "文件中的统计年度是 {year}，不是 --year {asked}：夜间运行按文件中的年度接收",
        "the file states school year {year}, not --year {asked}: the night files it under the "
        "year it states",
    ),
    # the contacts file (EDUSTAT_CONTACTS)
    "contacts_where": ("联系人文件 {path} 第{line}行", "contacts file {path} line {line}"),
    "contacts_unreadable": (
        "联系人文件 {path} 无法读取（{error}），本次不发送县区和地区通知",
        "contacts file {path} cannot be read ({error}): no county or region notices this time",
    ),
    "contacts_no_header": (
        "联系人文件 {path} 缺少表头 region_code,url，本次不发送县区和地区通知",
        "contacts file {path} lacks the header region_code,url: no county or region notices this"
        " time",
    ),
    "contacts_unknown_code": (
        "{where}：区划代码「{code}」不是已知的县级、地级、省级代码，也不是 national，此行未使用",
        "{where}: region code '{code}' is not a known county, prefecture or province code nor 'n"
        "ational'; row not used",
    ),
    "contacts_bad_url": (
        "{where}：地址（{scheme}://…）无法被 Apprise 识别，此行未使用",
        "{where}: Apprise cannot use the URL ({scheme}://…); row not used",
    ),
    "contacts_duplicate": (
        "{where}：与前面的行重复，已忽略",
        "{where}: repeats an earlier row; ignored",
    ),
}

EN_SEPARATOR = "—— English ——"
TITLE_SEPARATOR = " | "  # titles are one line: Chinese | English


def phrase(key: str, lang: Lang, **values: object) -> str:
    zh, en = PHRASES[key]
    return (zh if lang == "zh" else en).format(**values)


def status_label(status: str, lang: Lang) -> str:
    zh, en = STATUS_LABELS[status]
    return zh if lang == "zh" else en



@dataclass(frozen=True)
class Bi:
    """One text in both languages."""

    zh: str
    en: str

    def __getitem__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def line(self) -> str:
        """For a log or a terminal: Chinese / English on one line."""
        return f"{self.zh} / {self.en}"

    @classmethod
    def of(cls, key: str, **values: object) -> Bi:
        """The phrase `key` in both languages."""
        return cls(phrase(key, "zh", **values), phrase(key, "en", **values))
