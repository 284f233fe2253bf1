"""API roots and collections in the DynamoDB store.

A collection is kept twice, in one transaction: its own item (looked up by
id) and an entry in its API root's partition sorted by (created, id), which
lists the root's collections with one Query. Title uniqueness per API root
is a claim item keyed by the title's hash, created and released in the same
TransactWriteItems as the collection: two concurrent creations of a title
cannot both succeed.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import Conflict, NotFound
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Item, Table, boolean, get_n, get_s, n, s, strings
from steppe.store.port.catalog import ApiRoot, CatalogStore, Collection

_MAX_ATTEMPTS = 5  # an update races another update of the same collection


class DynamoCatalog(CatalogStore):
    """CatalogStore methods; mixed into DynamoStore."""

    _table: Table

    # -- API roots ---------------------------------------------------------------

    def put_api_root(self, root: ApiRoot) -> None:
        self._table.put(
            {
                "pk": s(keys.ROOTS),
                "sk": s(root.id),
                "title": s(root.title),
                "description": s(root.description),
                "created": n(root.created),
            }
        )

    def get_api_root(self, root_id: str) -> ApiRoot | None:
        item = self._table.get(keys.ROOTS, root_id)
        return None if item is None else _api_root(item)

    def list_api_roots(self) -> list[ApiRoot]:
        return [_api_root(item) for item in self._table.query_all(keys.ROOTS)]

    # -- collections -------------------------------------------------------------

    def create_collection(self, collection: Collection) -> None:
        actions = [
            _put(_collection_item(collection), "attribute_not_exists(pk)"),
            _put(_claim_item(collection), "attribute_not_exists(pk)"),
            _put(_listing_item(collection)),
        ]
        reasons = self._transact(actions)
        if reasons is None:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise Conflict(f"a collection with id '{collection.id}' already exists", where="id")
        raise Conflict(_title_message(collection), where="title")

    def update_collection(self, collection: Collection) -> None:
        for _ in range(_MAX_ATTEMPTS):
            item = self._table.get(keys.coll(collection.id), keys.COLLECTION_SK)
            if item is None:
                raise NotFound(f"there is no collection with id '{collection.id}'")
            old = _collection(item)
            if old.api_root != collection.api_root:
                raise Conflict(
                    f"collection '{collection.id}' belongs to API root '{old.api_root}'; "
                    "it cannot move to another one"
                )
            # The write applies only to the collection as read (same title and
            # created); a concurrent update makes it fail, and we read again.
            actions = [
                _put(
                    _collection_item(collection),
                    "attribute_exists(pk) AND title = :old_title AND created = :old_created",
                    {":old_title": s(old.title), ":old_created": n(old.created)},
                ),
                _put(
                    _claim_item(collection),
                    "attribute_not_exists(pk) OR collection_id = :id",
                    {":id": s(collection.id)},
                ),
                _put(_listing_item(collection)),
            ]
            if old.title != collection.title:
                actions.append(_delete(keys.title_claim(old.api_root), keys.title_sk(old.title)))
            old_listing = keys.root_collection_sk(old.created, old.id)
            if old_listing != keys.root_collection_sk(collection.created, collection.id):
                actions.append(_delete(keys.root_collections(old.api_root), old_listing))
            reasons = self._transact(actions)
            if reasons is None:
                return
            if reasons[1] == "ConditionalCheckFailed":
                raise Conflict(_title_message(collection), where="title")
            if reasons[0] != "ConditionalCheckFailed":
                raise Conflict(f"collection '{collection.id}' could not be updated: {reasons}")
        raise Conflict(f"collection '{collection.id}' is being changed by another request")

    def get_collection(self, collection_id: str) -> Collection | None:
        item = self._table.get(keys.coll(collection_id), keys.COLLECTION_SK)
        return None if item is None else _collection(item)

    def find_collection_by_title(self, api_root: str, title: str) -> Collection | None:
        claim = self._table.get(keys.title_claim(api_root), keys.title_sk(title))
        if claim is None:
            return None
        found = self.get_collection(claim["collection_id"]["S"])
        # A claim and its collection change together; check anyway (hash, not title, is the key).
        return found if found is not None and found.title == title else None

    def list_collections(self, api_root: str) -> list[Collection]:
        return [
            _collection(item) for item in self._table.query_all(keys.root_collections(api_root))
        ]

    # -- internals ---------------------------------------------------------------

    def _transact(self, actions: list[dict[str, Any]]) -> list[str] | None:
        """Run a transaction; None on success, else each action's cancellation code."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self._table.name
        try:
            self._table.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            codes = [reason.get("Code", "None") for reason in reasons]
            if "TransactionConflict" in codes or not codes:
                raise Conflict(
                    "the catalog is being changed by another request; try again"
                ) from None
            return codes
        return None


def _put(item: Item, condition: str | None = None, values: dict[str, Any] | None = None) -> dict:
    put: dict[str, Any] = {"Item": item}
    if condition:
        put["ConditionExpression"] = condition
    if values:
        put["ExpressionAttributeValues"] = values
    return {"Put": put}


def _delete(pk: str, sk: str) -> dict:
    return {"Delete": {"Key": {"pk": s(pk), "sk": s(sk)}}}


def _api_root(item: Item) -> ApiRoot:
    return ApiRoot(
        id=item["sk"]["S"],
        title=item["title"]["S"],
        description=item["description"]["S"],
        created=int(item["created"]["N"]),
    )


def _attributes(collection: Collection) -> Item:
    attributes: Item = {
        "id": s(collection.id),
        "api_root": s(collection.api_root),
        "title": s(collection.title),
        "description": s(collection.description),
        "media_types": strings(collection.media_types),
        "created": n(collection.created),
        "is_default": boolean(collection.default),
        "unmarked_tlp": n(collection.unmarked_tlp),
        "active_only": boolean(collection.active_only),
    }
    if collection.alias is not None:
        attributes["alias"] = s(collection.alias)
    return attributes


def _collection_item(collection: Collection) -> Item:
    return {
        "pk": s(keys.coll(collection.id)),
        "sk": s(keys.COLLECTION_SK),
        **_attributes(collection),
    }


def _listing_item(collection: Collection) -> Item:
    return {
        "pk": s(keys.root_collections(collection.api_root)),
        "sk": s(keys.root_collection_sk(collection.created, collection.id)),
        **_attributes(collection),
    }


def _claim_item(collection: Collection) -> Item:
    return {
        "pk": s(keys.title_claim(collection.api_root)),
        "sk": s(keys.title_sk(collection.title)),
        "collection_id": s(collection.id),
    }


def _collection(item: Item) -> Collection:
    return Collection(
        id=item["id"]["S"],
        api_root=item["api_root"]["S"],
        title=item["title"]["S"],
        description=item["description"]["S"],
        alias=get_s(item, "alias"),
        media_types=tuple(v["S"] for v in item["media_types"]["L"]),
        created=int(item["created"]["N"]),
        default=item["is_default"]["BOOL"],
        # Collections written before issue 3 have no unmarked_tlp: the port's default.
        unmarked_tlp=get_n(item, "unmarked_tlp", 1),  # type: ignore[arg-type]
        # ... and those written before issue 4 no active_only: they serve everything.
        active_only=item.get("active_only", {}).get("BOOL", False),
    )


def _title_message(collection: Collection) -> str:
    return f"API root '{collection.api_root}' already has a collection titled '{collection.title}'"
