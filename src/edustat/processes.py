"""Child processes that die with the process that started them.

A task killed outright (kill -9, the OOM killer, a Celery hard time limit) cleans nothing up:
its forked read workers and its dbt subprocess would live on as orphans, and a forked worker
holds every socket of its parent, the warehouse connection included, so the server keeps that
session `idle in transaction` with its locks and the next night hangs behind it. The kernel's
parent-death signal (prctl PR_SET_PDEATHSIG) kills them as soon as their parent is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Run in the child (a pool initializer, a subprocess preexec_fn); `parent`: its pid.

    If the parent is already gone (it died between fork and this call), exit at once.
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
