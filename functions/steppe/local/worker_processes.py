"""The local worker in processes of its own: Lambda's concurrency, on one machine.

Ingest converts, judges and serialises in Python; in one process its worker
threads share one GIL and one core. `steppe serve` therefore runs the queue's
consumers in child processes (STEPPE_WORKERS of them), each with its own
connection to the same SQLite file, as concurrent Lambda invocations each have
their own runtime. What they share is only what is stored: the job queue,
the objects and the records, so nothing a process keeps in memory can go
stale for another (the AWS shape relies on that already).

A child stops after its current batch when the server asks, and on its own
when the server process is gone (it then dies as a Lambda runtime would: the
queue's claim expires and the job runs again, which every task is written to
survive). Sends made in any process wake the consumers of every process
through one shared event.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any

from steppe.config import Settings

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_STOP_GRACE_SECONDS = 60.0


def worker_count() -> int:
    """STEPPE_WORKERS, else one per core (at least one)."""
    configured = os.environ.get("STEPPE_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, os.cpu_count() or 1)


@dataclass
class _Signals:
    stop: Any  # multiprocessing.Event: the server asks the children to stop
    wakeup: Any  # multiprocessing.Event: a job was sent (by any process)


class WorkerProcesses:
    """`count` child processes, each running one LocalWorker over the shared SQLite queue."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self._context = multiprocessing.get_context("spawn")
        self.signals = _Signals(self._context.Event(), self._context.Event())
        self._processes: list[Any] = []

    @property
    def wakeup(self) -> Any:
        """The event to hand the server's own queue, so that its sends wake the children."""
        return self.signals.wakeup

    def start(self) -> None:
        for number in range(self.count):
            process = self._context.Process(
                target=run_child,
                args=(self.settings, self.signals.stop, self.signals.wakeup, os.getpid()),
                name=f"steppe-worker-{number + 1}",
                daemon=False,
            )
            process.start()
            self._processes.append(process)

    def alive(self) -> int:
        return sum(1 for process in self._processes if process.is_alive())

    def pids(self) -> list[int]:
        return [process.pid for process in self._processes if process.pid is not None]

    def stop(self, timeout: float = _STOP_GRACE_SECONDS) -> None:
        """Ask every child to stop after its current batch; kill those that do not in time."""
        self.signals.stop.set()
        self.signals.wakeup.set()
        for process in self._processes:
            process.join(timeout)
            if process.is_alive():
                logger.warning("worker %s did not stop in %.0f s; killed", process.name, timeout)
                process.kill()
                process.join()
        self._processes = []


def run_child(settings: Settings, stop: Any, wakeup: Any, parent_pid: int) -> None:
    """A child's life: open the store, consume the queue until told to stop or orphaned."""
    _die_with(parent_pid)
    # The handler only flips a flag: taking the shared event's lock inside a signal
    # handler could deadlock against this very thread holding it.
    terminated: list[bool] = []
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the server, which stops us
    signal.signal(signal.SIGTERM, lambda *_: terminated.append(True))

    from steppe.local.job_thread import LocalWorker
    from steppe.local.routes import RouteTable
    from steppe.local.server import apply_function_environment, configure_logging
    from steppe.runtime import build_services, use_services

    routes = RouteTable.from_template()
    apply_function_environment(routes.environment)
    configure_logging()
    services = build_services(settings)
    services.queue.wakeup = wakeup  # type: ignore[attr-defined]
    use_services(services)
    worker = LocalWorker(services.queue, routes)
    orphaned = threading.Event()

    def watch_parent() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent_pid:
                orphaned.set()
                stop.set()
                wakeup.set()
                return

    threading.Thread(target=watch_parent, name="steppe-parent-watch", daemon=True).start()
    try:
        while not terminated and not stop.is_set():
            try:
                handled = worker.run_once()
            except Exception:
                logger.exception("local worker: the job queue failed; trying again shortly")
                stop.wait(worker.idle_wait)
                continue
            if not handled:
                wakeup.wait(worker.idle_wait)
    finally:
        use_services(None)
        with contextlib.suppress(Exception):
            services.close()
    if orphaned.is_set():
        logger.warning("local worker: the server process is gone; this worker stopped")


def _die_with(parent_pid: int) -> None:
    """Linux: be sent SIGTERM when the server process dies (kill -9 included)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before prctl took effect
        os._exit(0)
