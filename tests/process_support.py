"""Child processes of a process and the CPU time they use: to see whether sweep workers are busy, idle or gone."""

from __future__ import annotations

import time

import psutil


def children(pid: int) -> list[psutil.Process]:
    """Live child processes of pid (recursively), without multiprocessing's resource tracker (one per process that
    ever started a spawned child; it does no work and exits with its parent)."""
    out = []
    try:
        candidates = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    for p in candidates:
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds used so far by the processes (those that ended count no more)."""
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_rate(processes: list[psutil.Process], seconds: float = 2.0) -> float:
    """CPU seconds per second the processes use over the next ``seconds``."""
    start = cpu_seconds(processes)
    time.sleep(seconds)
    return (cpu_seconds(processes) - start) / seconds
