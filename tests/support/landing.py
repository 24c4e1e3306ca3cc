"""Put files in a landing folder the way a county's upload ends: complete, some time ago.

The platform takes a file only once it has settled (EDUSTAT_SETTLE_SECONDS before the night's
logical date, edustat.intake.landing); a test that drops a file just before running a night
makes it look sent a day earlier, as a real county's would be.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

DAY = timedelta(days=1)


def settle(path: Path, night: datetime) -> Path:
    """Date `path` a day before `night` (default: now)."""
    stamp = (night - DAY).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def land(source: Path, target: Path, night: datetime) -> Path:
    """Copy `source` to `target` as a file that arrived a day before `night`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return settle(target, night)
