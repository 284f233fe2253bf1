"""The template's `Type: Schedule` events, run by the embedded server as EventBridge would.

Each schedule runs once shortly after start (a server that was stopped for a
while catches up: the decay of its scores, the sweep of work left behind),
then every period. A run that raises is logged and tried again at the next
period, as EventBridge's next invocation would.
"""

from __future__ import annotations

import logging
import threading
import time

from steppe.local.invoke import invoke
from steppe.local.routes import ScheduleTrigger

logger = logging.getLogger(__name__)

FIRST_RUN_DELAY = 5.0  # seconds after start: let the server answer first


class ScheduledEvents:
    def __init__(
        self, schedules: tuple[ScheduleTrigger, ...], first_delay: float = FIRST_RUN_DELAY
    ):
        self.schedules = schedules
        self.first_delay = first_delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.schedules:
            return
        self._thread = threading.Thread(target=self._run, name="steppe-schedules", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        start = time.monotonic() + self.first_delay
        due = {schedule.event_name: start for schedule in self.schedules}
        while not self._stop.is_set():
            now = time.monotonic()
            for schedule in self.schedules:
                if now >= due[schedule.event_name]:
                    due[schedule.event_name] = now + schedule.period
                    self.run_once(schedule)
            wait = max(0.0, min(due.values()) - time.monotonic())
            self._stop.wait(min(wait, 60.0))

    @staticmethod
    def run_once(schedule: ScheduleTrigger) -> None:
        try:
            invoke(schedule.function, dict(schedule.input))
        except Exception:  # one failed run must not stop the others
            logger.exception("scheduled event %s failed", schedule.event_name)
