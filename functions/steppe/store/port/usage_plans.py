"""Usage plans: the gateway's per-partner throttle and quota, keyed by the authorizer.

The AWS shape's API takes its API key from the authorizer (ApiKeySourceType
AUTHORIZER): the authorizer names a partner's usage key and API Gateway
throttles the request by the usage plan that key belongs to. A partner's key
must therefore exist in the plan before the partner calls; this port creates
and removes it. Callers never see or send it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class UsagePlans(ABC):
    @abstractmethod
    def register(self, partner_name: str, usage_key: str) -> None:
        """Create the partner's API key with this value in the plan; a no-op when it is there."""

    @abstractmethod
    def unregister(self, usage_key: str) -> None:
        """Delete the API key with this value (and so its place in the plan); no-op if absent."""
