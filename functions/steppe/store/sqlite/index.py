"""The observable index on the sqlite store (placeholder until implemented)."""

from __future__ import annotations

from typing import Any

from steppe.store.port import ObservableIndex


class SqliteIndex(ObservableIndex):
    def index_values(self, values: Any) -> None:
        raise NotImplementedError

    def find_values(self, keys: Any, limit_per_key: int = 1000) -> Any:
        raise NotImplementedError

    def campaign_values(self, campaign_id: str, limit: int = 1000, after: Any = None) -> Any:
        raise NotImplementedError

    def add_cidr_prefixes(self, family: str, prefixes: Any) -> None:
        raise NotImplementedError

    def cidr_prefixes(self) -> Any:
        raise NotImplementedError

    def index_groups(self, members: Any) -> None:
        raise NotImplementedError

    def find_groups(self, groups: Any, limit_per_campaign: int = 50) -> Any:
        raise NotImplementedError

    def add_link_evidence(self, campaigns: Any, strength: Any, keys: Any) -> None:
        raise NotImplementedError

    def link_evidence(self, campaigns: Any, strength: Any, limit: int = 50) -> Any:
        raise NotImplementedError

    def put_campaign_link(self, link: Any) -> None:
        raise NotImplementedError

    def campaign_links(self, campaign_id: str) -> Any:
        raise NotImplementedError

    def put_campaign(self, campaign: Any) -> Any:
        raise NotImplementedError

    def get_campaign(self, campaign_id: str) -> Any:
        raise NotImplementedError

    def list_campaigns(self, limit: int = 100, after: Any = None) -> Any:
        raise NotImplementedError

    def put_false_positive(self, entry: Any) -> None:
        raise NotImplementedError

    def remove_false_positive(self, key: str) -> bool:
        raise NotImplementedError

    def find_false_positives(self, keys: Any) -> Any:
        raise NotImplementedError

    def list_false_positives(self, limit: int = 1000) -> Any:
        raise NotImplementedError
