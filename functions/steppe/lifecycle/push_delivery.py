"""Push delivery: send each destination what it has not received yet, in order.

A destination receives every version (new, changed, revoked) of the object
types it takes, from its collections, up to its TLP clearance, in date_added
order. Per collection a cursor (DestinationStore.push_cursor) holds the
date_added position already delivered: a batch is read after it, handed to
the destination's sender (steppe.push_senders), and the cursor moves only
once the sender took the batch. Delivery is therefore at least once: a
process that dies between the send and the cursor's move sends that one
batch again, and receivers should treat a version (id and modified) they
already have as a duplicate.

A job reads at most MAX_BATCHES pages, then queues itself again, so that
one destination's backlog never outlives a worker's time limit. A sender's
DeliveryFailed is raised for the queue to retry (and dead-letter after its
last attempt); the cursor stays where it was.

Jobs are queued after each stored part (steppe.jobs.runner follow-ups), by
the scheduled sweep, and when the embedded server starts (`push_messages`).
Two jobs of one destination in one process take turns; across processes (two
Lambda workers) they may both send a batch, which at-least-once allows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from steppe.jobs.tasks import push_message
from steppe.push_senders.delivery_errors import Sender
from steppe.push_senders.sender_table import sender_for
from steppe.store.port import (
    ALL_VERSIONS,
    Destination,
    DestinationStore,
    JobQueue,
    ObjectQuery,
    ObjectStore,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # Sentinel's upload API takes at most 100 objects a request
MAX_BATCHES = 10  # pages read per job

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(destination_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(destination_id, threading.Lock())


def push_messages(destinations: DestinationStore) -> list[dict[str, object]]:
    """One push job per destination (none when there are no destinations)."""
    return [push_message(destination.id) for destination in destinations.list_destinations()]


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one job delivered: objects sent, batches sent, and whether it queued itself again."""

    objects: int = 0
    batches: int = 0
    requeued: bool = False


@dataclass(frozen=True, slots=True)
class PushDelivery:
    destinations: DestinationStore
    objects: ObjectStore
    queue: JobQueue
    senders: Callable[[Destination], Sender] = sender_for
    batch_size: int = BATCH_SIZE
    max_batches: int = MAX_BATCHES

    def queue_all(self) -> int:
        """Queue one push job per destination; how many were queued."""
        messages = push_messages(self.destinations)
        if messages:
            self.queue.send(messages)
        return len(messages)

    def deliver_pending(self, destination_id: str) -> Delivered:
        """Send the destination's pending versions; DeliveryFailed if its sender refused."""
        destination = self.destinations.get_destination(destination_id)
        if destination is None:
            return Delivered()  # removed since the job was queued
        with _lock(destination.id):
            delivered = self._deliver(destination)
        if delivered.requeued:
            self.queue.send([push_message(destination.id)])
        return delivered

    def _deliver(self, destination: Destination) -> Delivered:
        sender: Sender | None = None
        sent = batches = pages = 0
        for collection_id in sorted(destination.collections):
            more = True
            while more:
                if pages == self.max_batches:
                    return Delivered(sent, batches, requeued=True)
                pages += 1
                cursor = self.destinations.push_cursor(destination.id, collection_id)
                page = self.objects.list_objects(
                    collection_id,
                    ObjectQuery(
                        after=cursor,
                        types=destination.types,
                        versions=ALL_VERSIONS,
                        max_tlp=destination.tlp_clearance,
                        limit=self.batch_size,
                    ),
                )
                more = page.more
                if page.records:
                    sender = sender or self.senders(destination)
                    objects = [orjson.loads(r.body) for r in page.records if r.body is not None]
                    sender.send(objects)
                    sent += len(objects)
                    batches += 1
                position = page.last_position
                if position is not None and (cursor is None or position > cursor):
                    self.destinations.set_push_cursor(destination.id, collection_id, position)
        return Delivered(sent, batches)
