"""What a process costs while a bench runs, read from ``/proc`` (Linux); percentiles.

CPU is ``utime + stime`` of ``/proc/<pid>/stat`` (the process's own threads, not its
children); RSS is ``VmRSS`` of ``/proc/<pid>/status``, sampled by a thread so a busy event
loop in the bench cannot skip samples. Where ``/proc`` is missing every figure is ``None``
and printed as ``n/a``.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process has used so far."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: fields are counted after its ")".
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def _status_kib(pid: int, key: str) -> int | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def rss_bytes(pid: int) -> int | None:
    kib = _status_kib(pid, "VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes(pid: int) -> int | None:
    """The process's lifetime peak RSS (``VmHWM``)."""
    kib = _status_kib(pid, "VmHWM")
    return None if kib is None else kib * 1024


@dataclass(frozen=True, slots=True)
class Sample:
    at_s: float  # seconds since the sampler started
    rss: int  # bytes


class RssSampler:
    """Samples a process's RSS every ``interval_s`` on a thread until ``stop()``."""

    def __init__(self, pid: int, interval_s: float) -> None:
        self.pid, self.interval_s = pid, interval_s
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._started = 0.0

    def start(self) -> RssSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            rss = rss_bytes(self.pid)
            if rss is not None:
                self.samples.append(Sample(time.monotonic() - self._started, rss))
            if self._stop.wait(self.interval_s):
                return

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join()
        return self.samples

    @property
    def peak(self) -> int | None:
        return max((s.rss for s in self.samples), default=None)


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    """CPU and memory of one process over one measured interval."""

    wall_s: float
    cpu_s: float | None
    peak_rss: int | None  # highest sample in the interval
    samples: list[Sample] = field(default_factory=list)

    @property
    def cpu_percent(self) -> float | None:
        """Of one core: 150 means one and a half cores busy."""
        if self.cpu_s is None or self.wall_s <= 0:
            return None
        return 100 * self.cpu_s / self.wall_s


class ProcessMeter:
    """``start()`` … ``stop()`` → the process's CPU seconds and sampled peak RSS in between."""

    def __init__(self, pid: int, *, interval_s: float = 0.2) -> None:
        self.pid = pid
        self._sampler = RssSampler(pid, interval_s)
        self._cpu0: float | None = None
        self._t0 = 0.0

    def start(self) -> ProcessMeter:
        self._t0 = time.monotonic()
        self._cpu0 = cpu_seconds(self.pid)
        self._sampler.start()
        return self

    def stop(self) -> ProcessUsage:
        cpu1 = cpu_seconds(self.pid)
        wall = time.monotonic() - self._t0
        samples = self._sampler.stop()
        cpu = None if cpu1 is None or self._cpu0 is None else cpu1 - self._cpu0
        return ProcessUsage(wall, cpu, self._sampler.peak, samples)


class GroupMeter:
    """Several processes metered together: CPU seconds summed, the highest peak RSS."""

    def __init__(self, pids: Sequence[int], *, interval_s: float = 0.2) -> None:
        self._meters = [ProcessMeter(pid, interval_s=interval_s) for pid in pids]

    def start(self) -> GroupMeter:
        for meter in self._meters:
            meter.start()
        return self

    def stop(self) -> ProcessUsage:
        usages = [meter.stop() for meter in self._meters]
        cpus = [u.cpu_s for u in usages]
        peaks = [u.peak_rss for u in usages if u.peak_rss is not None]
        return ProcessUsage(
            wall_s=max(u.wall_s for u in usages),
            cpu_s=None if None in cpus else sum(c for c in cpus if c is not None),
            peak_rss=max(peaks) if peaks else None,
            samples=[s for u in usages for s in u.samples],
        )


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``p`` in [0, 100]."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mib(value: int | None) -> float | None:
    return None if value is None else round(value / MIB, 1)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count() or "?"),
        "cpu": cpu,
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "platform": platform.platform(terse=True),
    }
