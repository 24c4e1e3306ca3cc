"""Settings from the environment (EDUSTAT_*) and an optional `.env`; nothing else."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

# The working copy: src/edustat/config.py -> repo root. Used for dags/, dbt_project/ and
# expectations/, which ship with the code rather than with the state.
REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip("'\"")
    return values


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


def _first_year(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise ValueError(f"EDUSTAT_FIRST_YEAR 应为四位年份，如 2024 / must be a 4-digit school "
                         f"year such as 2024: {text!r}")
    return int(text)


def _reminder_days(text: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and int(text) <= 366):
        raise ValueError(f"EDUSTAT_REMINDER_DAYS 应为 0 至 366 的天数 / must be a number of days "
                         f"from 0 to 366: {text!r}")
    return int(text)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    for key, value in _load_dotenv(Path.cwd() / ".env").items():
        env.setdefault(key, value)
    home = Path(env.get("EDUSTAT_HOME") or REPO_ROOT / ".edustat").resolve()
    jurisdiction_raw = env.get("EDUSTAT_JURISDICTION", "").strip()
    jurisdiction = (
        tuple(p.strip() for p in jurisdiction_raw.split(",") if p.strip())
        if jurisdiction_raw
        else None
    )
    return Settings(
        home=home,
        warehouse_dsn=env.get("EDUSTAT_WAREHOUSE_DSN") or None,
        jurisdiction=jurisdiction,
        alert_urls=tuple(env.get("EDUSTAT_ALERT_URLS", "").split()),
        max_file_bytes=int(env.get("EDUSTAT_MAX_FILE_BYTES", 50 * 1024 * 1024)),
        max_expanded_bytes=int(env.get("EDUSTAT_MAX_EXPANDED_BYTES", 200 * 1024 * 1024)),
        max_compression_ratio=float(env.get("EDUSTAT_MAX_COMPRESSION_RATIO", 200)),
        alert_always=env.get("EDUSTAT_ALERT_ALWAYS", "").lower() in ("1", "true", "yes"),
        missing_deadline=env.get("EDUSTAT_MISSING_DEADLINE", "03-31"),
        public_url=(env.get("EDUSTAT_PUBLIC_URL") or "").strip().rstrip("/") or None,
        contacts=Path(env["EDUSTAT_CONTACTS"]) if env.get("EDUSTAT_CONTACTS") else None,
        first_year=_first_year(env.get("EDUSTAT_FIRST_YEAR", "")),
        reminder_days=_reminder_days(env.get("EDUSTAT_REMINDER_DAYS", "30")),
        settle_seconds=int(env.get("EDUSTAT_SETTLE_SECONDS", 300)),
    )
