"""Airflow UI plugin: links from Airflow's navigation to the edustat site.

This folder holds only real Airflow plugins. Airflow imports every .py here as a top-level
module in every component (scheduler, API server, workers), so nothing here may import the
edustat package or a heavy library: the product lives in src/edustat and is installed.
"""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin


def _site_views() -> list[dict[str, str]]:
    # EDUSTAT_PUBLIC_URL is where `edustat serve` (or the docker reports service) publishes
    # the reports; without it there is no URL a browser could follow, so no link is shown.
    base = os.environ.get("EDUSTAT_PUBLIC_URL", "").strip().rstrip("/")
    if not base:
        return []
    # The site's layout (edustat.site): every page is under the same base.
    pages = (("报告 Reports", "index.html"), ("退回报告 Rejections", "rejections/index.html"),
             ("数据质量 Data Docs", "data-docs/index.html"),
             ("数据模型 dbt docs", "dbt-docs/index.html"))
    return [{"name": name, "href": f"{base}/{page}", "destination": "nav", "category": "browse"}
            for name, page in pages]


class EdustatLinksPlugin(AirflowPlugin):
    name = "edustat_links"
    external_views = _site_views()
