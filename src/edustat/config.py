"""Settings from the environment (EDUSTAT_*) and an optional `.env`; nothing else.

Every setting is declared once in SETTINGS below: its variable, what it holds, its default and
how a value is checked. `load_settings()` checks them all when a command starts and raises
ConfigError with one line naming the variable, the value and what is expected (the CLI prints
it and exits 2); the README's configuration table and docs/interface.md list the same names
(tests/test_config.py keeps them in step).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# The working copy: src/edustat/config.py -> repo root. Used for dags/, dbt_project/ and
# expectations/, which ship with the code rather than with the state.
REPO_ROOT = Path(__file__).resolve().parents[2]

MB = 1024 * 1024


class ConfigError(ValueError):
    """A setting has a value the platform cannot use; str() is the one line to show."""


def _load_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip("'\"")
    return values


# -- parsers: str -> value, ValueError with what is expected ---------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": MB, "g": 1024 * MB, "t": 1024 * 1024 * MB}


def parse_size(text: str) -> int:
    """Bytes from `52428800`, `50MB`, `50 MiB`, `1.5G` (K/M/G/T are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError("应为字节数，可带单位 expected a size in bytes, "
                         "e.g. 52428800, 50MB, 1.5GB")
    unit = (match.group(2) or "").lower().replace("i", "").rstrip("b") or ""
    value = float(match.group(1)) * _SIZE_UNITS[unit]
    if value < 1:
        raise ValueError("应大于 0 expected a size above 0, e.g. 50MB")
    return int(value)


def format_size(size: int) -> str:
    for unit, factor in (("GB", 1024 * MB), ("MB", MB), ("KB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"


_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_seconds(text: str) -> int:
    """Seconds from `300`, `300s`, `5m`, `1h`."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError("应为秒数 expected seconds, e.g. 300, 5m or 1h")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]


def _int_between(lo: int, hi: int | None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or value < lo or (hi is not None and value > hi):
            upper = f"–{hi}" if hi is not None else " or more"
            raise ValueError(f"应为整数 expected a whole number {lo}{upper}")
        return value
    return parse


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Blank means "not set" (None); anything else must parse."""
    return lambda text: parse(text) if text.strip() else None


def _ratio(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = 0.0
    if not value > 1:
        raise ValueError("应为大于 1 的数 expected a number above 1, e.g. 200")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError("应为 true 或 false expected true or false (also 1/0, yes/no, on/off)")


def _month_day(text: str) -> str:
    value = text.strip()
    try:
        if not re.fullmatch(r"\d{2}-\d{2}", value):
            raise ValueError
        date.fromisoformat(f"2000-{value}")  # a leap year: 02-29 is a real deadline
    except ValueError:
        raise ValueError("应为次年的月-日 expected MM-DD of the following year, e.g. 03-31")\
            from None
    return value


def _jurisdiction(text: str) -> tuple[str, ...] | None:
    from edustat import divisions

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        return None
    if any(p.lower() == "national" for p in parts):
        if len(parts) > 1:
            raise ValueError("national 不能与省份同列 expected either `national` or province "
                             "codes, not both")
        return ("national",)
    provinces = {d.province_code[:2] for d in divisions.load_divisions().values()}
    codes = []
    for part in parts:
        code = part[:2] if re.fullmatch(r"\d{2}0000", part) else part
        if code not in provinces:
            raise ValueError("应为两位省级代码（逗号分隔）或 national expected 2-digit province "
                             "codes separated by commas (e.g. 63 or 63,62) or `national`")
        codes.append(code)
    return tuple(codes)


def _alert_urls(text: str) -> tuple[str, ...]:
    urls = tuple(text.split())
    for url in urls:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", url):
            raise ValueError("应为以空格分隔的通知地址 expected space-separated notification URLs "
                             "such as mailto://… dingtalk://… json://host/path")
    return urls


def _dsn(text: str) -> str | None:
    value = text.strip()
    if not value:
        return None
    from psycopg.conninfo import conninfo_to_dict

    scheme = value.split("://", 1)[0].lower() if "://" in value else None
    try:
        if scheme is not None and scheme not in ("postgresql", "postgres"):
            raise ValueError
        info = conninfo_to_dict(value)
        if scheme is not None:
            urlsplit(value).port  # noqa: B018 -- raises ValueError for a port that is no number
        if not str(info.get("port") or "5432").isdigit():
            raise ValueError
    except Exception:
        raise ValueError("应为 PostgreSQL 连接串 expected a PostgreSQL URI such as "
                         "postgresql://user:password@host:5432/edustat") from None
    return value


def _public_url(text: str) -> str | None:
    value = text.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("应为 http(s) 网址 expected an http(s) URL such as "
                         "https://edustat.example.org/site")
    return value


def _existing_file(text: str) -> Path | None:
    if not text.strip():
        return None
    path = Path(text.strip()).expanduser()
    if not path.is_file():
        raise ValueError("文件不存在 expected an existing file (a CSV region_code,url)")
    return path


def _home(text: str) -> Path:
    path = Path(text).expanduser().resolve() if text.strip() else REPO_ROOT / ".edustat"
    if path.exists() and not path.is_dir():
        raise ValueError("应为目录 expected a directory (it is created when missing)")
    return path


def _task_queues(text: str) -> str:
    from edustat.schedule import TASKS
    from edustat.task_routing import parse_task_queues

    try:
        unknown = set(parse_task_queues(text)) - set(TASKS)
    except ValueError:
        unknown = {"?"}
    if unknown:
        raise ValueError("应为 task_id=queue 列表 expected task_id=queue pairs of the night's "
                         f"tasks ({', '.join(TASKS)}), e.g. build_marts=marts")
    return text


def _text(text: str) -> str:
    return text


# -- the settings -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    env: str
    field: str | None  # the Settings attribute; None: read elsewhere (Celery deployment)
    parse: Callable[[str], Any]
    default: str  # as a user would write it; parsed like any value
    meaning: str
    secret: bool = False  # never echo the value in a message


SETTINGS: tuple[Setting, ...] = (
    Setting("EDUSTAT_HOME", "home", _home, "",
            "state: Airflow home, landing, quarantine, reports, data docs "
            "(default `.edustat/` in the working copy)"),
    Setting("EDUSTAT_WAREHOUSE_DSN", "warehouse_dsn", _dsn, "",
            "the Postgres warehouse (default: an embedded Postgres under EDUSTAT_HOME/pgdata)",
            secret=True),
    Setting("EDUSTAT_JURISDICTION", "jurisdiction", _jurisdiction, "",
            "province codes (`63,62`) or `national` expected to submit "
            "(default: the provinces seen in submissions)"),
    Setting("EDUSTAT_ALERT_URLS", "alert_urls", _alert_urls, "",
            "space-separated Apprise URLs (mailto, dingtalk, wecom, slack, json) "
            "(default: none, alerts are logged only)", secret=True),
    Setting("EDUSTAT_ALERT_ALWAYS", "alert_always", _boolean, "false",
            "send the digest even when nothing is wrong"),
    Setting("EDUSTAT_MISSING_DEADLINE", "missing_deadline", _month_day, "03-31",
            "`MM-DD` of year Y+1 after which a county with no file for Y is late"),
    Setting("EDUSTAT_MAX_FILE_BYTES", "max_file_bytes", parse_size, "50MB",
            "largest county file read (bytes, or with a unit: `50MB`; MB = 1024² bytes)"),
    Setting("EDUSTAT_MAX_EXPANDED_BYTES", "max_expanded_bytes", parse_size, "200MB",
            "largest unpacked size of an xlsx (zip bombs)"),
    Setting("EDUSTAT_MAX_COMPRESSION_RATIO", "max_compression_ratio", _ratio, "200",
            "largest unpacked/packed ratio of an xlsx (zip bombs)"),
    Setting("EDUSTAT_PUBLIC_URL", "public_url", _public_url, "",
            "base URL the generated site is served at; links in notices point there "
            "(default: notices name pages in words)"),
    Setting("EDUSTAT_CONTACTS", "contacts", _existing_file, "",
            "CSV `region_code,url`: who is told about which region (default: none)"),
    Setting("EDUSTAT_FIRST_YEAR", "first_year", _optional(_int_between(2000, 2100)), "",
            "first school year counties are asked for (default: every year seen)"),
    Setting("EDUSTAT_REMINDER_DAYS", "reminder_days", _int_between(0, 366), "30",
            "reminders start this many days before the missing deadline"),
    Setting("EDUSTAT_SETTLE_SECONDS", "settle_seconds", parse_seconds, "300",
            "a landing file is taken only once unchanged this long (seconds, or `5m`)"),
    Setting("EDUSTAT_TASK_QUEUES", None, _task_queues, "",
            "Celery queue per task, `task_id=queue,…` (docker/; default: one queue)"),
    Setting("EDUSTAT_WORKER_NAME", None, _text, "",
            "a Celery worker's name in the task instances (default: the host name)"),
)

BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS}


def setting_value(setting: Setting, raw: str | None) -> Any:
    """The parsed value of `raw` (None or blank: the default), or ConfigError."""
    text = setting.default if raw is None or (not raw.strip() and setting.default) else raw
    try:
        return setting.parse(text)
    except ValueError as exc:
        shown = "（已隐藏 hidden）" if setting.secret else repr(raw)
        if setting.env == "EDUSTAT_WAREHOUSE_DSN":
            shown = repr(re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", raw or ""))
        default = f" (默认 default: {setting.default})" if setting.default else ""
        raise ConfigError(f"{setting.env}={shown}: {exc}{default}") from None


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_dsn: str | None
    jurisdiction: tuple[str, ...] | None  # province 2-digit codes, ("national",) or None
    alert_urls: tuple[str, ...]
    max_file_bytes: int
    max_expanded_bytes: int
    max_compression_ratio: float
    alert_always: bool
    missing_deadline: str  # MM-DD: a county with nothing for year Y by this day of Y+1 is late
    # The base URL the generated site is served at (EDUSTAT_PUBLIC_URL); None: notices name
    # pages by their path on the server, in words (edustat.site.public_link).
    public_url: str | None = None
    # EDUSTAT_CONTACTS: CSV `region_code,url` of who is told what (edustat notices).
    contacts: Path | None = None
    # EDUSTAT_FIRST_YEAR: the first school year counties are asked for (none: every year seen).
    first_year: int | None = None
    # EDUSTAT_REMINDER_DAYS: reminders start this many days before the missing deadline.
    reminder_days: int = 30
    # EDUSTAT_SETTLE_SECONDS: a landing file is taken only once unchanged for this long.
    settle_seconds: int = 300

    @cached_property
    def landing(self) -> Path:
        return self.home / "landing"

    @cached_property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @cached_property
    def reports(self) -> Path:
        return self.home / "reports"

    @cached_property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @cached_property
    def gx_home(self) -> Path:
        """The GX file project the night validates in (a copy of expectations/gx)."""
        return self.home / "gx"

    @cached_property
    def data_docs_index(self) -> Path:
        return self.gx_home / "uncommitted" / "data_docs" / "local_site" / "index.html"

    @cached_property
    def dbt_target(self) -> Path:
        return self.home / "dbt_target"

    @cached_property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @cached_property
    def secrets_dir(self) -> Path:
        """Generated passwords (warehouse, Airflow UI), each file 0600."""
        return self.home / "secrets"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Every setting from `env` (default os.environ) and `.env`, checked; ConfigError if bad."""
    env = dict(os.environ if env is None else env)
    for key, value in _load_dotenv(Path.cwd() / ".env").items():
        env.setdefault(key, value)
    values = {s.field: setting_value(s, env.get(s.env)) for s in SETTINGS}
    values.pop(None, None)
    return Settings(**values)
