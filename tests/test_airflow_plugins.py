"""Protects what Airflow's plugin loader sees: every .py under plugins/ is imported as a
top-level module in every Airflow component (scheduler, API server, workers), so plugins/ must
hold only real Airflow plugins, and loading them must pull in neither the edustat package nor
any heavy library (pandas, pyarrow, Great Expectations, dbt, psycopg)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
from airflow import plugins_manager
plugins, errors = plugins_manager._get_plugins()
print(json.dumps({
    "plugins": sorted(p.name for p in plugins),
    "errors": errors,
    "modules": sorted(m for m in sys.modules),
}))
"""

_FORBIDDEN = ("edustat", "edustat_synth", "pandas", "pyarrow", "great_expectations", "dbt",
              "psycopg", "psycopg2", "apprise", "openpyxl", "python_calamine")


def _load_plugins(tmp_path: Path, **extra_env: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "no-dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **extra_env,
    })
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_plugin_loader_imports_no_product_module_nor_heavy_library(tmp_path: Path) -> None:
    loaded = _load_plugins(tmp_path, EDUSTAT_PUBLIC_URL="https://stats.example.edu.cn/edustat")
    assert loaded["errors"] == {}
    assert "edustat_links" in loaded["plugins"]
    heavy = [m for m in loaded["modules"]
             if m.split(".")[0] in _FORBIDDEN]
    assert heavy == [], f"the plugin loader imported {heavy[:10]}"


def test_plugins_folder_holds_only_airflow_plugins() -> None:
    for path in (REPO / "plugins").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "AirflowPlugin" in text, f"{path.name} is not an Airflow plugin"
        assert "import edustat" not in text and "from edustat" not in text, path.name


def test_links_point_at_the_public_site(tmp_path: Path) -> None:
    probe = (
        "import json, os, sys; sys.path.insert(0, os.environ['PLUGINS']);"
        "import edustat_links as m; print(json.dumps(m.EdustatLinksPlugin.external_views))")
    env = dict(os.environ, PLUGINS=str(REPO / "plugins"),
               EDUSTAT_PUBLIC_URL="https://stats.example.edu.cn/edustat/",
               AIRFLOW_HOME=str(tmp_path / "airflow"))
    views = json.loads(subprocess.run([sys.executable, "-c", probe], env=env,
                                      capture_output=True, text=True, check=True).stdout)
    # The pages of the site layout (edustat.site), under the public URL.
    assert [v["href"] for v in views] == [
        "https://stats.example.edu.cn/edustat/index.html",
        "https://stats.example.edu.cn/edustat/rejections/index.html",
        "https://stats.example.edu.cn/edustat/data-docs/index.html",
        "https://stats.example.edu.cn/edustat/dbt-docs/index.html"]
    from edustat.site import DATA_DOCS, DBT_DOCS, INDEX, REJECTIONS
    assert [v["href"].split("/edustat/", 1)[1] for v in views] == [
        INDEX, f"{REJECTIONS}/{INDEX}", f"{DATA_DOCS}/{INDEX}", f"{DBT_DOCS}/{INDEX}"]
    env.pop("EDUSTAT_PUBLIC_URL")
    views = json.loads(subprocess.run([sys.executable, "-c", probe], env=env,
                                      capture_output=True, text=True, check=True).stdout)
    assert views == []
