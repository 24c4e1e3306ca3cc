"""Two nights with EDUSTAT_HOME on a disk that fills up; run inside its own mount namespace.

    unshare --mount --propagation private -- sh -c \
        'mount -t tmpfs -o size=200m tmpfs HOME && exec python diskfull_night.py HOME LANDING DSN'

The tmpfs exists only in that namespace, so the whole story runs here and is told on stdout as
JSON for the test (tests/test_faults.py) to judge; the warehouse and the landing folder are
outside it and outlive it. Night 1 is ordinary. Night 2 reads and validates, then the disk is
filled to the last byte and the night decides and builds (both must fail clean); then the
ballast goes and the same night's steps are retried.
"""

from __future__ import annotations

import errno
import json
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from edustat import pipeline
from edustat.config import load_settings


def _fill(path: Path) -> None:
    """Write until the disk has not a byte left (big blocks, then small ones)."""
    with path.open("wb", buffering=0) as fh:
        for size in (1 << 20, 4096, 1):
            block = b"\0" * size
            try:
                while True:
                    fh.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


def _attempt(step, ctx) -> dict:
    try:
        step(ctx)
    except Exception as exc:  # the test judges what was raised
        return {"ok": False, "type": type(exc).__name__, "message": str(exc),
                "trace": traceback.format_exc()[-3000:]}
    return {"ok": True}


def main(home: str, landing: str, dsn: str) -> None:
    settings = load_settings({"EDUSTAT_HOME": home, "EDUSTAT_WAREHOUSE_DSN": dsn})
    story: dict = {}

    def ctx(run_id: str) -> pipeline.RunContext:
        return pipeline.RunContext(run_id=run_id, logical_date=datetime.now(UTC),
                                   landing=Path(landing), settings=settings)

    first = ctx("night-1")
    for step in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                 pipeline.decide, pipeline.build_marts):
        step(first)
    print("night 1 done", file=sys.stderr, flush=True)
    sys.stdin.readline()  # the test drops night 2's files meanwhile
    second = ctx("night-2")
    for step in (pipeline.discover, pipeline.read_and_stage, pipeline.validate):
        step(second)
    ballast = Path(home) / "ballast"
    _fill(ballast)
    story["full"] = {"decide": _attempt(pipeline.decide, second),
                     "build_marts": _attempt(pipeline.build_marts, second)}
    print("disk full: decided and built", file=sys.stderr, flush=True)
    sys.stdin.readline()  # the test looks at the warehouse and the landing meanwhile
    ballast.unlink()
    story["freed"] = {"decide": _attempt(pipeline.decide, second),
                      "build_marts": _attempt(pipeline.build_marts, second)}
    print(json.dumps(story, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:4])
