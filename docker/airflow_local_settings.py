"""Airflow cluster policy for the edustat deployment (copied to $AIRFLOW_HOME/config/).

The queue routing lives in edustat.task_routing (EDUSTAT_TASK_QUEUES); the DAG stays wiring only.
The local Celery topology (tests/support/celery_topology.py) installs this same file.
"""

from edustat.task_routing import task_policy

__all__ = ["task_policy"]
