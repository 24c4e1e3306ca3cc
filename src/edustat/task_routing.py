"""Airflow cluster hooks for a Celery deployment: which queue a task goes to, which worker ran it.

Loaded through `airflow_local_settings.py` (docker/airflow_local_settings.py in the image, or the
one the local Celery topology writes), never imported by the DAG: the DAG stays wiring only and
the deployment decides where tasks run.

- EDUSTAT_TASK_QUEUES routes tasks to Celery queues, e.g.
  `build_marts=marts,build_reports=marts` sends the memory-hungry steps to the workers started
  with `--queues marts`. Empty: every task stays
  on Airflow's default queue (one pool of identical workers).
- EDUSTAT_WORKER_NAME names the worker in task_instance.hostname. In containers the hostname
  already differs per worker; several workers on one machine need a name each to be told apart.

Only the standard library at import: every Airflow process loads this file.
"""

from __future__ import annotations

import os
import socket
from typing import Any

TASK_QUEUES_VAR = "EDUSTAT_TASK_QUEUES"
WORKER_NAME_VAR = "EDUSTAT_WORKER_NAME"


def parse_task_queues(spec: str | None) -> dict[str, str]:
    """`task_id=queue` pairs separated by commas or spaces; malformed pairs are an error."""
    routes: dict[str, str] = {}
    for pair in (spec or "").replace(",", " ").split():
        task_id, sep, queue = pair.partition("=")
        if not sep or not task_id.strip() or not queue.strip():
            raise ValueError(
                f"{TASK_QUEUES_VAR}: '{pair}' 不是 task_id=queue 格式 / is not task_id=queue")
        routes[task_id.strip()] = queue.strip()
    return routes


def format_task_queues(routes: dict[str, str]) -> str:
    return ",".join(f"{task_id}={queue}" for task_id, queue in sorted(routes.items()))


def task_policy(task: Any) -> None:
    """Cluster policy: set the queue of the tasks named in EDUSTAT_TASK_QUEUES (edustat DAGs only).

    Runs when the DAG processor parses the file, so the queue is part of the serialized DAG the
    scheduler hands to the Celery executor.
    """
    routes = parse_task_queues(os.environ.get(TASK_QUEUES_VAR))
    dag_id = getattr(getattr(task, "dag", None), "dag_id", "") or ""
    if routes and dag_id.startswith("edustat") and task.task_id in routes:
        task.queue = routes[task.task_id]


def worker_hostname() -> str:
    """[core] hostname_callable: the worker's name when it has one, else the machine's FQDN."""
    return os.environ.get(WORKER_NAME_VAR) or socket.getfqdn()
