"""The embedded server's push sweep: what the AWS schedule does every five minutes.

On AWS the worker's scheduled sweep (template.yaml) queues one push job per
destination, catching versions no ingest follow-up announced (expiry by
decay, a job that was lost). The embedded server has no scheduler, so a
thread does the same: once at start (what the previous run left
undelivered), then every `interval` seconds.
"""

from __future__ import annotations

import logging
import threading

from steppe.runtime import Services, push_delivery

logger = logging.getLogger(__name__)

INTERVAL = 300.0


class PushSweep:
    def __init__(self, services: Services, interval: float = INTERVAL) -> None:
        self.services = services
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="steppe-push-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def sweep_once(self) -> int:
        """Queue one push job per destination; how many were queued."""
        return push_delivery(self.services).queue_all()

    def _run(self) -> None:
        while True:
            try:
                self.sweep_once()
            except Exception:
                logger.exception("push sweep failed; trying again at the next one")
            if self._stopping.wait(self.interval):
                return
