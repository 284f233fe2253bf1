"""The local worker in processes of its own: Lambda's concurrency, on one machine.

Ingest converts, judges and serialises in Python; in one process its worker
threads share one GIL and one core. `steppe serve` therefore runs the queue's
consumers in child processes (STEPPE_WORKERS of them), each with its own
connection to the same SQLite file, as concurrent Lambda invocations each have
their own runtime. What they share is only what is stored: the job queue,
the objects and the records, so nothing a process keeps in memory can go
stale for another (the AWS shape relies on that already).

No lock, event or pipe is shared between the processes: any of them may be
killed at any instant, and a shared lock its holder took with it would stall
the others for good. A child polls the queue with a read (claiming takes the
write lock only when a job is due); the jobs it queues itself wake it at once.
It stops after its current batch on SIGTERM, which the server sends when it
stops. When the server dies (`kill -9` included) the kernel kills its
children with it, as a crash of the one machine would: what they held comes
back through the queue and crash recovery, and no orphan finishes a job
behind the next server's back. A child that dies alone is replaced; the job
it held comes back when its claim expires, as a Lambda's would.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

from steppe.config import Settings

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_STOP_GRACE_SECONDS = 60.0
_SUPERVISE_SECONDS = 1.0
# How often an idle child looks for jobs queued by another process.
POLL_SECONDS = 0.05
_READY_SECONDS = 60.0
WORKER_CACHE_KIB = 16384


def worker_count() -> int:
    """STEPPE_WORKERS, else one per core (at least one)."""
    configured = os.environ.get("STEPPE_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, os.cpu_count() or 1)


class WorkerProcesses:
    """`count` child processes, each running one LocalWorker over the shared SQLite queue."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self._stopping = threading.Event()
        # The kernel's parent-death signal follows the thread that started a child:
        # the supervisor (which starts replacements) outlives the children it started.
        self._children_stopped = threading.Event()
        self._supervisor: threading.Thread | None = None

    def start(self, ready_within: float = _READY_SECONDS) -> None:
        """Start the children; return once each has opened the store (or died trying),
        so that the server listens only when its workers no longer compete for the CPU
        with their own start-up."""
        started = [self._spawn(number) for number in range(self.count)]
        self._processes = [process for process, _ in started]
        for process, ready in started:
            try:
                if ready.poll(ready_within):
                    ready.recv()
            except EOFError:  # it died before it was ready: the supervisor replaces it
                logger.warning("worker %s exited while starting", process.name)
            finally:
                ready.close()
        self._supervisor = threading.Thread(
            target=self._supervise, name="steppe-worker-supervisor", daemon=True
        )
        self._supervisor.start()

    def _spawn(self, number: int) -> tuple[Any, Any]:
        """The child, and the end of a pipe it writes once when it is ready (a pipe, not a
        lock: a child that dies closes its end, and the reader sees EOF)."""
        ready, tell_ready = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_child,
            args=(self.settings, os.getpid(), tell_ready),
            name=f"steppe-worker-{number + 1}",
            daemon=False,
        )
        process.start()
        tell_ready.close()
        return process, ready

    def _supervise(self) -> None:
        """A child that died (a crash, the OOM killer) is replaced."""
        while not self._stopping.wait(_SUPERVISE_SECONDS):
            for number, process in enumerate(list(self._processes)):
                if not process.is_alive() and not self._stopping.is_set():
                    logger.warning(
                        "worker %s exited (code %s); starting another",
                        process.name,
                        process.exitcode,
                    )
                    replacement, ready = self._spawn(number)
                    ready.close()
                    self._processes[number] = replacement
        self._children_stopped.wait()

    def stop(self, timeout: float = _STOP_GRACE_SECONDS) -> None:
        """Ask every child to stop after its current batch; kill those that do not in time."""
        self._stopping.set()
        for process in self._processes:
            process.terminate()  # SIGTERM: the child finishes its batch, then exits
        for process in self._processes:
            process.join(timeout)
            if process.is_alive():
                logger.warning("worker %s did not stop in %.0f s; killed", process.name, timeout)
                process.kill()
                process.join()
        self._children_stopped.set()
        if self._supervisor is not None:
            self._supervisor.join()
        self._processes = []


def run_child(settings: Settings, parent_pid: int, tell_ready: Any = None) -> None:
    """A child's life: open the store, consume the queue until told to stop or orphaned."""
    # The handler only appends to a list: nothing it could block on.
    terminated: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: terminated.append(True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the server, which stops us
    _die_with(parent_pid)

    from steppe.local.job_thread import LocalWorker
    from steppe.local.routes import RouteTable
    from steppe.local.server import apply_function_environment, configure_logging
    from steppe.runtime import build_services, use_services

    routes = RouteTable.from_template()
    apply_function_environment(routes.environment)
    configure_logging()
    # Each child has its own SQLite page cache: a smaller one than the server's
    # keeps the processes together within the memory of one.
    os.environ.setdefault("STEPPE_SQLITE_CACHE_KIB", str(WORKER_CACHE_KIB))
    built = build_services(settings)
    use_services(built)
    # Polled this often: a send from another process does not wake this one.
    worker = LocalWorker(built.queue, routes, idle_wait=POLL_SECONDS)  # type: ignore[arg-type]
    if tell_ready is not None:
        with contextlib.suppress(OSError):  # the server may be gone already
            tell_ready.send(True)
        tell_ready.close()
    try:
        worker.consume_until(lambda: bool(terminated) or os.getppid() != parent_pid)
    finally:
        use_services(None)
    if not terminated:
        logger.warning("local worker: the server process is gone; this worker stopped")


def _die_with(parent_pid: int) -> None:
    """Linux: be killed when the server process dies (kill -9 included)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before prctl took effect
        os._exit(0)
