"""The one table of push destination kinds and the senders that deliver to them.

Each sender takes a destination's settings and secret and offers
`send(objects)` (steppe.push_senders.delivery_errors.Sender). The Sentinel
sender is imported when a Sentinel destination is first delivered to, so a
build without it still serves webhooks (and says so for Sentinel).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from steppe.push_senders.delivery_errors import DeliveryFailed, Sender
from steppe.store.port import Destination


def _webhook(destination: Destination) -> Sender:
    from steppe.push_senders.webhook import WebhookSender

    return WebhookSender(destination.settings, destination.secret, name=destination.name)


def _sentinel(destination: Destination) -> Sender:
    try:
        module = importlib.import_module("steppe.push_senders.sentinel")
    except ModuleNotFoundError:
        raise DeliveryFailed(
            f"push destination {destination.name}: this build has no Sentinel sender",
            permanent=True,
        ) from None
    sender: Sender = module.SentinelSender(dict(destination.settings), destination.secret)
    return sender


SENDERS: dict[str, Callable[[Destination], Sender]] = {
    "webhook": _webhook,
    "sentinel": _sentinel,
}


def sender_for(destination: Destination) -> Sender:
    """The sender of the destination's kind; DeliveryFailed (permanent) for an unknown kind."""
    make = SENDERS.get(destination.kind)
    if make is None:
        raise DeliveryFailed(
            f"push destination {destination.name}: no sender for kind '{destination.kind}'",
            permanent=True,
        )
    return make(destination)
