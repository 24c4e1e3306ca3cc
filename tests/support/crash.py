"""Kill a pipeline step with SIGKILL at an exact point, the way the OOM killer or `kill -9` would.

The step runs in a forked child of the test process. Just before the n-th call of a chosen
function (the point between two commits the test is about), the child kills itself with
SIGKILL: no `finally`, no rollback by Python, no cleanup; the server sees the connection drop
as it would for a dead Airflow task. Nothing in the product knows about it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KillPoint:
    """Kill before the `call`-th call of `owner.name` (a module or class attribute)."""

    owner: Any
    name: str
    call: int = 1
    # Run in the dying process just before the kill (e.g. note its children's pids).
    before: Callable[[], None] | None = None


def _arm(point: KillPoint) -> None:
    original = getattr(point.owner, point.name)
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == point.call:
            if point.before is not None:
                point.before()
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(point.owner, point.name, wrapper)


def run_killed(step: Callable[[], Any], point: KillPoint, *,
               setup: Callable[[], None] | None = None, timeout: float = 900) -> int:
    """Run `step()` in a forked child, killed at `point`; returns the child's exit code
    (-9 when the kill happened, 0 when the step finished without reaching the point)."""

    def child() -> None:
        if setup is not None:
            setup()
        _arm(point)
        step()

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        raise TimeoutError(f"step did not reach {point.name} within {timeout} s")
    return process.exitcode
