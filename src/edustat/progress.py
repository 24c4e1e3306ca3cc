"""Progress of a night as people read it: step lines and progress through long loops.

The pipeline's steps log here (logger `edustat.progress`): in Airflow that is the task's log;
`edustat run` picks these lines out of Airflow's output and prints them while the night runs.
Long loops (thousands of files, pages) report through `track`: a tqdm bar on a terminal,
plain lines every 10 % (and at most every few seconds) anywhere else, e.g. in a task log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

LOGGER = "edustat.progress"
log = logging.getLogger(LOGGER)
T = TypeVar("T")

# `edustat run` recognises step lines by these words (orchestration.ProgressPrinter).
STARTED = "开始 started"
DONE = "完成 done"
FAILED = "失败 failed"


def describe(outcome: Any) -> str:
    """`files_seen 3, new 3` from a step's returned counts."""
    if isinstance(outcome, dict):
        return ", ".join(f"{k} {v}" for k, v in outcome.items() if not isinstance(v, dict | list)
                         or len(str(v)) < 60)
    return "" if outcome is None else str(outcome)


def step_started(name: str) -> float:
    log.info("%s %s", name, STARTED)
    return time.monotonic()


def step_done(name: str, started: float, outcome: Any) -> None:
    log.info("%s %s (%.1f s): %s", name, DONE, time.monotonic() - started, describe(outcome))


def step_failed(name: str, started: float, exc: BaseException) -> None:
    message = " ".join(str(exc).split())[:300]
    log.error("%s %s (%.1f s): %s: %s", name, FAILED, time.monotonic() - started,
              type(exc).__name__, message)


def track(items: Iterable[T], total: int, label: str, out: IO[str] | None = None,
          every_seconds: float = 5.0) -> Iterator[T]:
    """Yield `items`, reporting progress: tqdm on a terminal `out`, else plain lines to
    `out`, or to the progress log when `out` is None."""
    if out is not None and out.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=label, file=out, unit="")
        return
    step = max(1, total // 10)
    last = time.monotonic()
    for done, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if done == total or (done % step == 0 and now - last >= every_seconds):
            last = now
            line = f"{label}: {done}/{total} ({100 * done // max(total, 1)}%)"
            if out is None:
                log.info(line)
            else:
                print(line, file=out, flush=True)
