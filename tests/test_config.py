"""Settings: every documented setting is parsed and checked when a command starts.

Protects: a bad value taken silently (`EDUSTAT_JURISDICTION=qinghai`, a full date as the
missing deadline), a size the README writes (`50MB`) refused with a ValueError, a message that
does not name the setting, shows a password, or says nothing about what is expected, and a
README configuration table that drifts from the settings the code reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edustat.config import MB, SETTINGS, ConfigError, load_settings, parse_size

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("text", "size"), [
    ("52428800", 50 * MB), ("50MB", 50 * MB), ("50 MB", 50 * MB), ("50mb", 50 * MB),
    ("50MiB", 50 * MB), ("1.5GB", 1536 * MB), ("200K", 200 * 1024), ("1024B", 1024),
])
def test_sizes_take_bytes_or_units(text: str, size: int) -> None:
    assert parse_size(text) == size
    assert load_settings({"EDUSTAT_MAX_FILE_BYTES": text}).max_file_bytes == size


def test_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path)})
    assert settings.home == tmp_path.resolve()
    assert settings.max_file_bytes == 50 * MB and settings.max_expanded_bytes == 200 * MB
    assert settings.max_compression_ratio == 200 and settings.missing_deadline == "03-31"
    assert settings.jurisdiction is None and settings.alert_urls == ()
    assert settings.alert_always is False and settings.first_year is None
    assert settings.settle_seconds == 300 and settings.reminder_days == 30


@pytest.mark.parametrize(("name", "value", "field", "parsed"), [
    ("EDUSTAT_JURISDICTION", "63,62", "jurisdiction", ("63", "62")),
    ("EDUSTAT_JURISDICTION", "630000", "jurisdiction", ("63",)),
    ("EDUSTAT_JURISDICTION", "national", "jurisdiction", ("national",)),
    ("EDUSTAT_ALERT_ALWAYS", "yes", "alert_always", True),
    ("EDUSTAT_MISSING_DEADLINE", "02-29", "missing_deadline", "02-29"),
    ("EDUSTAT_SETTLE_SECONDS", "5m", "settle_seconds", 300),
    ("EDUSTAT_FIRST_YEAR", "2022", "first_year", 2022),
    ("EDUSTAT_PUBLIC_URL", "https://stats.example.cn/site/", "public_url",
     "https://stats.example.cn/site"),
    ("EDUSTAT_ALERT_URLS", "json://127.0.0.1:9/x  mailto://a@b", "alert_urls",
     ("json://127.0.0.1:9/x", "mailto://a@b")),
])
def test_good_values_parse(name: str, value: str, field: str, parsed: object) -> None:
    assert getattr(load_settings({name: value}), field) == parsed


BAD = [
    ("EDUSTAT_MAX_FILE_BYTES", "50XB", "50MB"),
    ("EDUSTAT_MAX_FILE_BYTES", "-5", "50MB"),
    ("EDUSTAT_MAX_EXPANDED_BYTES", "lots", "200MB"),
    ("EDUSTAT_MAX_COMPRESSION_RATIO", "0.5", "above 1"),
    ("EDUSTAT_JURISDICTION", "qinghai", "national"),
    ("EDUSTAT_JURISDICTION", "99", "2-digit province"),
    ("EDUSTAT_JURISDICTION", "63,national", "national"),
    ("EDUSTAT_MISSING_DEADLINE", "2026-03-31", "MM-DD"),
    ("EDUSTAT_MISSING_DEADLINE", "02-30", "MM-DD"),
    ("EDUSTAT_ALERT_ALWAYS", "maybe", "true or false"),
    ("EDUSTAT_ALERT_URLS", "ops@example.org", "URLs"),
    ("EDUSTAT_WAREHOUSE_DSN", "mysql://u:pw@h/db", "postgresql://"),
    ("EDUSTAT_WAREHOUSE_DSN", "postgresql://u:topsecret@h:port/db", "postgresql://"),
    ("EDUSTAT_PUBLIC_URL", "stats.example.cn", "http"),
    ("EDUSTAT_CONTACTS", "/does/not/exist.csv", "existing file"),
    ("EDUSTAT_FIRST_YEAR", "1900", "2000"),
    ("EDUSTAT_REMINDER_DAYS", "soon", "whole number"),
    ("EDUSTAT_SETTLE_SECONDS", "ten", "seconds"),
    ("EDUSTAT_TASK_QUEUES", "build_marts", "task_id=queue"),
    ("EDUSTAT_TASK_QUEUES", "dbt_build=marts", "build_marts"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD)
def test_bad_values_give_one_line_naming_setting_value_and_expectation(
        name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{name}=")
    assert expected in message
    if name == "EDUSTAT_WAREHOUSE_DSN":
        assert "topsecret" not in message and "pw@" not in message
    elif name != "EDUSTAT_ALERT_URLS":
        assert repr(value) in message


def test_alert_urls_are_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"EDUSTAT_ALERT_URLS": "dingtalk-token-ABC123"})
    assert "ABC123" not in str(caught.value)


def test_every_setting_is_documented_in_the_readme_and_nothing_else() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(EDUSTAT_[A-Z_]+)` \|", section, re.M)
    assert documented == [s.env for s in SETTINGS]
