"""Delivering a digest through Apprise: per receiver, bounded retries, never an exception.

An alert that cannot be delivered must not fail the data run it reports on, so every failure
ends up in the DeliveryReport and the log instead of propagating. Each receiver is tried on
its own: one broken webhook does not hold back the email.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from edustat.alerting.digest import Digest
from edustat.alerting.text import truncate_utf8, utf8_len

log = logging.getLogger("edustat.alerts")

# Services whose size limit is in UTF-8 bytes rather than characters.
BYTE_LIMITED = {"wecombot", "wecom", "wxwork", "dingtalk"}

# Backoff between attempts: short, because the nightly run waits for it.
BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 2.0
# Apprise's own connect/read timeouts (cto/rto) default to 4 s, email's connect to 15 s;
# left as they are: a slow receiver costs at most attempts × timeout.


@dataclass(frozen=True)
class TargetResult:
    target: str  # the URL with secrets hidden
    delivered: bool
    attempts: int
    error: str | None = None


@dataclass
class DeliveryReport:
    results: list[TargetResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every receiver got the message (vacuously true with no receivers)."""
        return all(r.delivered for r in self.results)

    @property
    def delivered(self) -> list[str]:
        return [r.target for r in self.results if r.delivered]

    @property
    def failed(self) -> list[str]:
        return [r.target for r in self.results if not r.delivered]


def send(digest: Digest, urls: Sequence[str], attempts: int = 3) -> DeliveryReport:
    """Send `digest` to every Apprise URL; never raises, logs every failure."""
    report = DeliveryReport()
    try:
        targets = [u.strip() for u in urls if u and u.strip()]
        if not targets:
            log.info(
                "未配置 EDUSTAT_ALERT_URLS，告警仅记录 / no alert URLs, logged only:\n%s\n%s",
                digest.title,
                digest.body,
            )
            return report
        log.info("发送告警 / sending alert to %d receivers: %s", len(targets), digest.title)
        for url in targets:
            report.results.append(_send_one(digest, url, max(1, attempts)))
    except Exception:  # the data run must go on whatever happens here
        log.exception("告警发送出错 / alert delivery crashed")
    return report


def _send_one(digest: Digest, url: str, attempts: int) -> TargetResult:
    import apprise

    # Until Apprise has parsed the URL, show only its scheme: for DingTalk and WeCom the
    # "host" is the access token.
    target = scheme_only(url)
    error: str | None = None
    for attempt in range(1, attempts + 1):
        try:
            # A fresh plugin per attempt: Apprise throttles repeat sends on one instance by up
            # to 5.5 s, which would turn three quick retries into a long wait.
            plugin = apprise.Apprise.instantiate(url)
            if plugin is None:
                # A malformed URL will not get better by retrying.
                error = "Apprise 无法识别此地址 / Apprise cannot use this URL"
                log.error("告警地址无效 / invalid alert URL %s", target)
                return TargetResult(target, False, attempt, error)
            target = redact(plugin.url(privacy=True))
            _attach_fields(plugin, digest)
            with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
                ok = plugin.notify(
                    body=_fit_body(plugin, digest),
                    title=digest.title,
                    notify_type=apprise.NotifyType(digest.severity),
                    body_format=apprise.NotifyFormat.TEXT,
                    attach=_attachments(plugin, digest),
                )
            if ok:
                log.info("告警已送达 / alert delivered to %s (attempt %d)", target, attempt)
                return TargetResult(target, True, attempt)
            error = _last_lines(captured.getvalue()) or "Apprise notify() returned False"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "告警发送失败 / alert to %s failed (attempt %d/%d): %s",
            target,
            attempt,
            attempts,
            error,
        )
        if attempt < attempts:
            time.sleep(min(BACKOFF_SECONDS * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
    log.error(
        "告警未能送达 / alert NOT delivered to %s after %d attempts: %s\n%s",
        target,
        attempts,
        error,
        digest.title,
    )
    return TargetResult(target, False, attempts, error)


def _attach_fields(plugin: object, digest: Digest) -> None:
    """The JSON webhook carries the structured fields next to Apprise's title and message."""
    from apprise.plugins.custom_json import NotifyJSON

    if isinstance(plugin, NotifyJSON) and digest.fields:
        plugin.payload_extras["edustat"] = digest.fields


def _attachments(plugin: object, digest: Digest) -> object | None:
    """The digest's files, for mail only: a webhook would carry them base64 in its JSON, and
    chat robots (DingTalk, WeCom) take none."""
    from apprise import AppriseAttachment
    from apprise.attachment.file import AttachFile
    from apprise.plugins.email import NotifyEmail

    files = [f for f in digest.attachments if f.is_file()]
    if not files or not isinstance(plugin, NotifyEmail):
        return None
    # A rejection report is its site page, index.html: in a mailbox it needs its own name.
    return AppriseAttachment([
        AttachFile(str(f), name="rejection_report.html" if f.name == "index.html" else f.name)
        for f in files])


def _fit_body(plugin: object, digest: Digest) -> str:
    """The full body if the receiver takes it, else the compact one, cut to size if need be.

    Apprise's body_maxlen counts characters, but WeCom and DingTalk count UTF-8 bytes
    (WeCom: 2 048 bytes, ~680 Chinese characters): for those the limit is applied to bytes.
    Several receivers put the title into the body, so its size is reserved too.
    """
    limit = int(getattr(plugin, "body_maxlen", 0) or 0)
    if limit <= 0:
        return digest.body
    size = utf8_len if _schemas(plugin) & BYTE_LIMITED else len
    budget = limit - size(digest.title) - 2
    for candidate in (digest.body, digest.short_body):
        if size(candidate) <= budget:
            return candidate
    # Cutting to the budget in bytes also keeps a character limit: never more characters
    # than bytes.
    return truncate_utf8(digest.short_body, budget, "……（内容过长已截断，完整内容见报告）")


def _schemas(plugin: object) -> set[str]:
    names: set[str] = set()
    for attr in ("protocol", "secure_protocol"):
        value = getattr(plugin, attr, None)
        names.update([value] if isinstance(value, str) else list(value or ()))
    return names


# A path segment this long is taken for a token (webhook paths often carry one); mail
# recipients (with "@") are kept: they are what an engineer needs to know.
_SECRET_SEGMENT = 16


def redact(private_url: str) -> str:
    """Apprise's privacy URL (tokens already masked) without query, credentials or long
    path segments: what ops.deliveries and the logs may show."""
    parts = urlsplit(private_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    segments = [
        seg if len(seg) <= _SECRET_SEGMENT or "%40" in seg or "@" in seg else f"{seg[0]}…{seg[-1]}"
        for seg in parts.path.split("/")
    ]
    return f"{parts.scheme}://{host}{'/'.join(segments)}"


def destination(url: str) -> str:
    """How a receiver is named in ops.deliveries and the logs (never with its secrets)."""
    import apprise

    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception:
        plugin = None
    return redact(plugin.url(privacy=True)) if plugin is not None else scheme_only(url)


def scheme_only(url: str) -> str:
    """What may be shown of a URL Apprise could not parse: its scheme."""
    return (url.split(":", 1)[0][:20] if ":" in url else "?") + "://…"


def _last_lines(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])
