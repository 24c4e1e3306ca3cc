"""Peak memory of a process tree, sampled while it runs (psutil, every 0.2 s by default).

RSS counts pages shared between a parent and its forked children in each of them, so the
tree total overstates what the machine actually needs; the largest single process is the
figure the 2 GB target is about.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class MemoryPeak:
    max_process_rss: int = 0  # bytes, the largest single process at any sample
    max_process_name: str = ""
    max_tree_rss: int = 0  # bytes, the largest sum over the tree at one sample
    max_processes: int = 0  # most processes alive in the tree at one sample
    samples: int = 0
    # (epoch seconds, largest single-process RSS at that sample): to tell which phase peaked.
    timeline: list[tuple[float, int]] = field(default_factory=list)


def _describe(proc: psutil.Process) -> str:
    try:
        cmd = proc.cmdline()
    except (psutil.Error, OSError):
        return proc.name() if proc.is_running() else "?"
    # `python …/airflow dags test …` → "airflow dags test"; dbt and workers likewise.
    words = [w.rsplit("/", 1)[-1] for w in cmd[:4]]
    if words and words[0].startswith("python") and len(words) > 1:
        words = words[1:]
    return " ".join(words)[:80]


class TreeSampler:
    """Samples the RSS of `pid` and all its descendants in a background thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = MemoryPeak()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        alive = 0
        largest = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue  # ended between listing and reading
            alive += 1
            total += rss
            largest = max(largest, rss)
            if rss > self.peak.max_process_rss:
                self.peak.max_process_rss = rss
                self.peak.max_process_name = _describe(proc)
        self.peak.max_tree_rss = max(self.peak.max_tree_rss, total)
        self.peak.max_processes = max(self.peak.max_processes, alive)
        self.peak.samples += 1
        self.peak.timeline.append((time.time(), largest))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)
