"""The observable index on DynamoDB: value occurrences, groups, link evidence,
campaigns, their links and false positives.

Items (`<x>` is the sort-safe spelling of x made by `part`, below):

    pk                              sk                           item
    VAL#<key>                       S                            the key has occurrences
    VAL#<key>                       F#<first_seen><coll><obj><source>
                                                                 occurrence, by first_seen
    VAL#<key>                       I#<coll><obj><source>        occurrence identity (first_seen)
    CVAL#<campaign>                 <key><coll><obj><source>     occurrence, by campaign
    CIDR                            <family>                     prefix lengths (a number set)
    GRP#<group>                     <campaign><coll><tlp>        member count
    GRPK#<group><campaign><coll><tlp>
                                    <key>                        one member
    LEV#<a><b><strength><scope>     N                            how many keys a and b share
    LEV#<a><b><strength><scope>     K#<key>                      one shared key (a < b)
    LNK#<campaign>                  <other><strength><scope>     campaign link
    CAMPAIGNS                       <campaign><coll><tlp>        campaign record (rv: revision,
                                                                 ak: attack kind)
    FALSEPOS                        <key>                        false positive

(<scope> is an evidence scope: its collections, then its TLP rank; <tlp> a
TLP rank. What the index says of a campaign is kept per collection and TLP.)

Every read is a GetItem, a BatchGetItem or a Query on one partition (never a
Scan), strongly consistent; its cost grows with what it finds, not with the
size of the index. find_values first reads the keys' S items in batches of
100, and queries only the partitions of keys that have occurrences.

Occurrences: the first write of an identity stands. index_values reads the
identity items of its batch, writes the occurrence items of the new ones,
then their identity items last: a writer that dies half way leaves no
identity without its occurrence, and the retry writes the same items again.

Counted sets (a campaign's members of a group, the keys two campaigns share):
one item per member and a count kept on a summary item. New members are
written with TransactWriteItems, each with a condition that it is absent,
together with the ADD to the count: the count is exact under retries and
concurrent writers. Members already stored are found first by BatchGetItem,
so a repeated call writes nothing.

Sort keys hold strings of any characters, so each component is escaped to
keep the order of its string: characters up to "!" become "!" + one
character ("0".."Q"), and a space ends the component (it sorts below every
escaped or plain character, so a string sorts before its extensions and
tuples of components sort like tuples of strings). A component too long for
its byte budget (DynamoDB: 2,048 bytes per partition key, 1,024 per sort
key) keeps a prefix and a hash of the whole instead, "!~<hash>": such long
values sort by that prefix, then by hash.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from steppe.store.aws import table_keys as layout
from steppe.store.aws.table import (
    Item,
    Key,
    Table,
    UnprocessedWork,
    get_s,
    get_strings,
    is_condition_failure,
    n,
    s,
    strings,
)
from steppe.store.aws.table import key as item_key
from steppe.store.port.campaigns import CampaignLink, CampaignRecord, EvidenceScope, Strength
from steppe.store.port.false_positives import FalsePositive
from steppe.store.port.index import GroupHit, GroupMember, IndexedValue, ObservableIndex

# -- sort-safe key components ----------------------------------------------------

_END = " "
_ESCAPE = "!"
_LONG = "!~"
_LOW = re.compile(r"[\x00-\x21]")
_HASH_CHARS = 32


def _escape_char(match: re.Match[str]) -> str:
    return _ESCAPE + chr(0x30 + ord(match.group()))


def part(text: str, budget: int) -> str:
    """`text` as a key component of at most `budget` UTF-8 bytes, in the order of `text`."""
    escaped = _LOW.sub(_escape_char, text)
    encoded = escaped.encode("utf-8")
    if len(encoded) < budget:
        return escaped + _END
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    head = encoded[: budget - len(_LONG) - _HASH_CHARS - len(_END)].decode("utf-8", "ignore")
    if head.endswith(_ESCAPE):  # an escape cut in two
        head = head[:-1]
    return head + _LONG + digest + _END


def _past(component: str) -> str:
    """The lowest sort key above every sort key that starts with this component."""
    return component[: -len(_END)] + _ESCAPE


# Byte budgets: whole keys stay within DynamoDB's limits.
_PK_PART = 1500
_SK_PART = 1000
_ID_PART = 300  # each of collection, object and source after a first_seen
_CAMPAIGN_KEY_PART = 400  # key, then collection, object and source (200 each)
_CAMPAIGN_ID_PART = 200

_PRESENT = "S"
_BY_FIRST_SEEN = "F#"
_IDENTITY = "I#"
_CIDR = "CIDR"
_EVIDENCE_COUNT = "N"
_EVIDENCE_KEY = "K#"
_CAMPAIGNS = "CAMPAIGNS"
_FALSE_POSITIVES = "FALSEPOS"


def _value_pk(value_key: str) -> str:
    return "VAL#" + part(value_key, _PK_PART)


def _occurrence_sk(value: IndexedValue) -> str:
    return (
        part(value.collection_id, _ID_PART)
        + part(value.object_id, _ID_PART)
        + part(value.source, _ID_PART)
    )


def _campaign_values_pk(campaign_id: str) -> str:
    return "CVAL#" + part(campaign_id, _PK_PART)


def _campaign_value_sk(value: IndexedValue) -> str:
    return (
        part(value.key, _CAMPAIGN_KEY_PART)
        + part(value.collection_id, _CAMPAIGN_ID_PART)
        + part(value.object_id, _CAMPAIGN_ID_PART)
        + part(value.source, _CAMPAIGN_ID_PART)
    )


def _tlp(rank: int) -> str:
    return f"{rank:02d}" + _END


def _group_pk(group: str) -> str:
    return "GRP#" + part(group, _PK_PART)


def _group_record_sk(campaign_id: str, collection_id: str, tlp: int) -> str:
    return part(campaign_id, 500) + part(collection_id, 400) + _tlp(tlp)


def _group_members_pk(group: str, campaign_id: str, collection_id: str, tlp: int) -> str:
    return "GRPK#" + part(group, 900) + _group_record_sk(campaign_id, collection_id, tlp)


def _scope(scope: EvidenceScope) -> str:
    return "".join(part(c, 150) for c in scope.collection_ids) + _END + _tlp(scope.tlp)


def _evidence_pk(pair: tuple[str, str], strength: str, scope: EvidenceScope) -> str:
    return "LEV#" + part(pair[0], 500) + part(pair[1], 500) + part(strength, 50) + _scope(scope)


def _links_pk(campaign_id: str) -> str:
    return "LNK#" + part(campaign_id, _PK_PART)


def _link_sk(other_id: str, strength: str, scope: EvidenceScope) -> str:
    return part(other_id, 500) + part(strength, 50) + _scope(scope)


def _campaign_sk(campaign: CampaignRecord) -> str:
    return (
        part(campaign.id, _CAMPAIGN_ID_PART * 2)
        + part(campaign.collection_id, 400)
        + _tlp(campaign.tlp)
    )


def _pair(campaigns: tuple[str, str]) -> tuple[str, str]:
    first, second = campaigns
    return (first, second) if first <= second else (second, first)


# -- items -------------------------------------------------------------------------


def _occurrence_attributes(value: IndexedValue) -> Item:
    attributes: Item = {
        "k": s(value.key),
        "c": s(value.collection_id),
        "o": s(value.object_id),
        "src": s(value.source),
        "p": s(value.producer),
        "l": n(value.tlp),
        "f": n(value.first_seen),
        "e": n(value.last_seen),
    }
    if value.campaign_id is not None:
        attributes["g"] = s(value.campaign_id)
    return attributes


def _occurrence(item: Item) -> IndexedValue:
    return IndexedValue(
        key=item["k"]["S"],
        collection_id=item["c"]["S"],
        object_id=item["o"]["S"],
        campaign_id=get_s(item, "g"),
        source=item["src"]["S"],
        producer=item["p"]["S"],
        tlp=int(item["l"]["N"]),
        first_seen=int(item["f"]["N"]),
        last_seen=int(item["e"]["N"]),
    )


def _campaign_item(campaign: CampaignRecord, revision: int) -> Item:
    item: Item = {
        "pk": s(_CAMPAIGNS),
        "sk": s(_campaign_sk(campaign)),
        "id": s(campaign.id),
        "nm": s(campaign.name),
        "c": s(campaign.collection_id),
        "l": n(campaign.tlp),
        "p": s(campaign.producer),
        "f": n(campaign.first_seen),
        "e": n(campaign.last_seen),
        "m": n(campaign.modified),
        "vc": n(campaign.values),
        "tg": strings(campaign.targets),
        "rv": n(revision),
    }
    if campaign.kind:
        item["ak"] = s(campaign.kind)
    return item


def _campaign(item: Item) -> CampaignRecord:
    return CampaignRecord(
        id=item["id"]["S"],
        name=item["nm"]["S"],
        collection_id=item["c"]["S"],
        tlp=int(item["l"]["N"]),
        producer=item["p"]["S"],
        first_seen=int(item["f"]["N"]),
        last_seen=int(item["e"]["N"]),
        modified=int(item["m"]["N"]),
        values=int(item["vc"]["N"]),
        targets=tuple(get_strings(item, "tg")),
        kind=get_s(item, "ak", "") or "",
    )


def _merge(stored: CampaignRecord, new: CampaignRecord) -> CampaignRecord:
    """CampaignRecord's merge rule (the SQLite adapter applies the same in SQL)."""
    known = frozenset(stored.targets)
    return replace(
        new,
        first_seen=min(stored.first_seen, new.first_seen),
        last_seen=max(stored.last_seen, new.last_seen),
        modified=max(stored.modified, new.modified),
        values=max(stored.values, new.values),
        targets=stored.targets + tuple(t for t in dict.fromkeys(new.targets) if t not in known),
        kind=new.kind or stored.kind,
    )


def _link_item(link: CampaignLink) -> Item:
    return {
        "pk": s(_links_pk(link.campaign_id)),
        "sk": s(_link_sk(link.other_id, link.strength, link.scope)),
        "cp": s(link.campaign_id),
        "ot": s(link.other_id),
        "st": s(link.strength),
        "n": n(link.count),
        "sa": strings(link.sample),
        "cf": n(link.confidence),
        "r": s(link.relationship_id),
        "cs": strings(link.collection_ids),
        "l": n(link.tlp),
        "m": n(link.modified),
    }


def _link(item: Item) -> CampaignLink:
    return CampaignLink(
        campaign_id=item["cp"]["S"],
        other_id=item["ot"]["S"],
        strength=item["st"]["S"],  # type: ignore[arg-type]
        count=int(item["n"]["N"]),
        sample=tuple(get_strings(item, "sa")),
        confidence=int(item["cf"]["N"]),
        relationship_id=item["r"]["S"],
        collection_ids=tuple(get_strings(item, "cs")),
        tlp=int(item["l"]["N"]),
        modified=int(item["m"]["N"]),
    )


def _false_positive(item: Item) -> FalsePositive:
    return FalsePositive(
        key=item["k"]["S"],
        reason=item["why"]["S"],
        analyst=item["who"]["S"],
        created=int(item["t"]["N"]),
        collection_ids=tuple(get_strings(item, "cs")),
        tlp=int(item["l"]["N"]) if "l" in item else 0,
    )


# -- counted sets ------------------------------------------------------------------

_MEMBERS_PER_TRANSACTION = 99  # and the summary's update: TransactWriteItems takes 100
_MAX_ATTEMPTS = 10


@dataclass(slots=True)
class _Additions:
    """Members to add to one counted set, and what to set on its summary item."""

    summary: Key
    members_pk: str
    sk_prefix: str
    keys: dict[str, None] = field(default_factory=dict)  # an ordered set
    attributes: Item = field(default_factory=dict)

    def member_key(self, member: str) -> Key:
        return self.members_pk, self.sk_prefix + part(member, _SK_PART)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))


class DynamoIndex(ObservableIndex):
    """Every index port (ObservableIndex: occurrences, groups, campaign links, campaigns,
    false positives); mixed into DynamoStore."""

    _table: Table

    # -- value occurrences -------------------------------------------------------

    def index_values(self, values: Sequence[IndexedValue]) -> None:
        batch: dict[tuple[str, str, str, str], IndexedValue] = {}
        for value in values:  # the first of an identity in the batch stands
            batch.setdefault((value.key, value.collection_id, value.object_id, value.source), value)
        if not batch:
            return
        identities = {
            ident: (_value_pk(value.key), _IDENTITY + _occurrence_sk(value))
            for ident, value in batch.items()
        }
        stored = self._table.batch_get(identities.values(), projection="f")
        new = [value for ident, value in batch.items() if identities[ident] not in stored]
        if not new:
            return
        occurrences: list[Item] = []
        for value in new:
            attributes = _occurrence_attributes(value)
            occurrences.append(
                {
                    "pk": s(_value_pk(value.key)),
                    "sk": s(_BY_FIRST_SEEN + layout.pad(value.first_seen) + _occurrence_sk(value)),
                    **attributes,
                }
            )
            if value.campaign_id is not None:
                occurrences.append(
                    {
                        "pk": s(_campaign_values_pk(value.campaign_id)),
                        "sk": s(_campaign_value_sk(value)),
                        **attributes,
                    }
                )
        self._table.batch_write(occurrences)
        marks: list[Item] = [
            {
                "pk": s(_value_pk(value.key)),
                "sk": s(_IDENTITY + _occurrence_sk(value)),
                "f": n(value.first_seen),
            }
            for value in new
        ]
        marks.extend(
            {"pk": s(_value_pk(value_key)), "sk": s(_PRESENT)}
            for value_key in dict.fromkeys(value.key for value in new)
        )
        self._table.batch_write(marks)

    def find_values(
        self, keys: Sequence[str], limit_per_key: int = 1000
    ) -> dict[str, list[IndexedValue]]:
        if limit_per_key < 1:
            return {}
        distinct = list(dict.fromkeys(keys))
        present = self._table.batch_get((_value_pk(k), _PRESENT) for k in distinct)
        found = [k for k in distinct if (_value_pk(k), _PRESENT) in present]

        def read(value_key: str) -> list[IndexedValue]:
            return self._first_occurrences(value_key, limit_per_key)

        return {
            value_key: occurrences
            for value_key, occurrences in zip(
                found, self._table.map(read, found) if found else [], strict=True
            )
            if occurrences
        }

    def _first_occurrences(self, value_key: str, limit: int) -> list[IndexedValue]:
        pk = _value_pk(value_key)
        occurrences: list[IndexedValue] = []
        seen: set[tuple[str, str, str]] = set()
        start: Item | None = None
        while len(occurrences) < limit:
            items, start = self._query(
                pk, begins=_BY_FIRST_SEEN, start=start, limit=limit - len(occurrences)
            )
            for item in items:
                occurrence = _occurrence(item)
                # Two writers racing on one identity with different first_seen
                # can both write it; the earlier one counts.
                ident = (occurrence.collection_id, occurrence.object_id, occurrence.source)
                if ident not in seen:
                    seen.add(ident)
                    occurrences.append(occurrence)
            if start is None:
                break
        return occurrences

    def campaign_values(
        self, campaign_id: str, limit: int = 1000, after: str | None = None
    ) -> list[IndexedValue]:
        if limit < 1:
            return []
        pk = _campaign_values_pk(campaign_id)
        lowest = None if after is None else _past(part(after, _CAMPAIGN_KEY_PART))
        items, start = self._query_up_to(pk, limit, at_least=lowest)
        if start is not None and items:
            # The rest of the last key's occurrences come in this call too.
            last = part(items[-1]["k"]["S"], _CAMPAIGN_KEY_PART)
            while start is not None:
                more, start = self._query(pk, begins=last, start=start)
                items.extend(more)
        return [_occurrence(item) for item in items]

    # -- CIDR prefix lengths -----------------------------------------------------

    def add_cidr_prefixes(self, family: str, prefixes: Iterable[int]) -> None:
        lengths = sorted({int(prefix) for prefix in prefixes})
        if not lengths:
            return
        self._table.client.update_item(
            TableName=self._table.name,
            Key=item_key(_CIDR, part(family, _SK_PART)),
            UpdateExpression="SET fm = :family ADD p :lengths",
            ExpressionAttributeValues={
                ":family": s(family),
                ":lengths": {"NS": [str(length) for length in lengths]},
            },
        )

    def cidr_prefixes(self) -> dict[str, frozenset[int]]:
        return {
            item["fm"]["S"]: frozenset(int(length) for length in item["p"]["NS"])
            for item in self._table.query_all(_CIDR)
        }

    # -- groups ------------------------------------------------------------------

    def index_groups(self, members: Sequence[GroupMember]) -> None:
        sets: dict[tuple[str, str, str, int], _Additions] = {}
        for member in members:
            record = (member.group, member.campaign_id, member.collection_id, member.tlp)
            additions = sets.get(record)
            if additions is None:
                additions = sets[record] = _Additions(
                    summary=(
                        _group_pk(member.group),
                        _group_record_sk(member.campaign_id, member.collection_id, member.tlp),
                    ),
                    members_pk=_group_members_pk(*record),
                    sk_prefix="",
                    attributes={
                        "g": s(member.group),
                        "cp": s(member.campaign_id),
                        "c": s(member.collection_id),
                        "l": n(member.tlp),
                    },
                )
            additions.keys[member.key] = None
        self._add_members(list(sets.values()))

    def find_groups(
        self, groups: Sequence[str], limit_per_campaign: int = 50
    ) -> dict[str, list[GroupHit]]:
        distinct = list(dict.fromkeys(groups))
        if not distinct:
            return {}

        def campaigns(group: str) -> list[Item]:
            return list(self._table.query_all(_group_pk(group)))

        summaries = [item for items in self._table.map(campaigns, distinct) for item in items]
        if limit_per_campaign > 0 and summaries:

            def first_keys(summary: Item) -> list[str]:
                pk = _group_members_pk(
                    summary["g"]["S"],
                    summary["cp"]["S"],
                    summary["c"]["S"],
                    int(summary["l"]["N"]),
                )
                items, _ = self._query_up_to(pk, limit_per_campaign, projection="k")
                return [item["k"]["S"] for item in items]

            member_keys = list(self._table.map(first_keys, summaries))
        else:
            member_keys = [[] for _ in summaries]
        hits: dict[str, list[GroupHit]] = {}
        for summary, found in zip(summaries, member_keys, strict=True):
            group = summary["g"]["S"]
            hits.setdefault(group, []).append(
                GroupHit(
                    group=group,
                    campaign_id=summary["cp"]["S"],
                    collection_id=summary["c"]["S"],
                    tlp=int(summary["l"]["N"]),
                    keys=frozenset(found),
                    count=int(summary["n"]["N"]),
                )
            )
        for group_hits in hits.values():
            group_hits.sort(key=lambda hit: (hit.campaign_id, hit.collection_id, hit.tlp))
        return hits

    # -- link evidence -----------------------------------------------------------

    def add_link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        keys: Iterable[str],
    ) -> None:
        unique = dict.fromkeys(keys)
        if not unique:
            return
        sets = []
        for scope in dict.fromkeys(scopes):
            pk = _evidence_pk(_pair(campaigns), strength, scope)
            additions = _Additions(
                summary=(pk, _EVIDENCE_COUNT), members_pk=pk, sk_prefix=_EVIDENCE_KEY
            )
            additions.keys = dict(unique)
            sets.append(additions)
        if sets:
            self._add_members(sets)

    def link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        limit: int = 50,
    ) -> dict[EvidenceScope, tuple[int, list[str]]]:
        pair = _pair(campaigns)
        pks = {scope: _evidence_pk(pair, strength, scope) for scope in dict.fromkeys(scopes)}
        summaries = self._table.batch_get((pk, _EVIDENCE_COUNT) for pk in pks.values())
        present = [scope for scope, pk in pks.items() if (pk, _EVIDENCE_COUNT) in summaries]

        def first_keys(scope: EvidenceScope) -> list[str]:
            if limit < 1:
                return []
            items, _ = self._query_up_to(pks[scope], limit, begins=_EVIDENCE_KEY, projection="k")
            return sorted(item["k"]["S"] for item in items)

        samples = list(self._table.map(first_keys, present)) if present else []
        return {
            scope: (int(summaries[(pks[scope], _EVIDENCE_COUNT)]["n"]["N"]), sample)
            for scope, sample in zip(present, samples, strict=True)
        }

    def _add_members(self, sets: list[_Additions]) -> None:
        """Add the members each set lacks and count them; update stale summaries."""
        probes: list[Key] = [additions.member_key(m) for additions in sets for m in additions.keys]
        probes.extend(additions.summary for additions in sets if additions.attributes)
        stored = self._table.batch_get(probes)
        units: list[tuple[_Additions, list[str]]] = []
        for additions in sets:
            new = [m for m in additions.keys if additions.member_key(m) not in stored]
            summary = stored.get(additions.summary)
            stale = bool(additions.attributes) and (
                summary is None
                or any(summary.get(name) != value for name, value in additions.attributes.items())
            )
            if not new:
                if stale:
                    units.append((additions, []))
                continue
            for start in range(0, len(new), _MEMBERS_PER_TRANSACTION):
                units.append((additions, new[start : start + _MEMBERS_PER_TRANSACTION]))
        if units:
            list(self._table.map(self._commit_members, units))

    def _commit_members(self, unit: tuple[_Additions, list[str]]) -> None:
        """One transaction: each new member (if still absent) and the count's increase."""
        additions, pending = unit
        table = self._table
        for attempt in range(_MAX_ATTEMPTS):
            values: Item = {":added": n(len(pending))}
            update = "ADD n :added"
            if additions.attributes:
                update += " SET " + ", ".join(f"{name} = :{name}" for name in additions.attributes)
                values.update({f":{name}": value for name, value in additions.attributes.items()})
            actions: list[dict[str, Any]] = [
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": {
                            "pk": s(additions.members_pk),
                            "sk": s(additions.member_key(member)[1]),
                            "k": s(member),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for member in pending
            ]
            actions.append(
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": item_key(*additions.summary),
                        "UpdateExpression": update,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
            try:
                table.client.transact_write_items(TransactItems=actions)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                taken = {
                    index
                    for index, reason in enumerate(reasons[: len(pending)])
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
                if taken:  # another writer added these meanwhile: not ours to count
                    pending = [m for index, m in enumerate(pending) if index not in taken]
                    if not pending and not additions.attributes:
                        return
                    continue
                _backoff(attempt)  # a conflicting transaction, or throttling
        raise UnprocessedWork("DynamoDB kept cancelling the transaction adding set members")

    # -- campaign links ----------------------------------------------------------

    def put_campaign_links(self, links: Sequence[CampaignLink]) -> None:
        if links:
            self._table.batch_write([_link_item(link) for link in links])

    def campaign_links(self, campaign_id: str) -> list[CampaignLink]:
        links = [_link(item) for item in self._table.query_all(_links_pk(campaign_id))]
        links.sort(key=lambda link: (link.other_id, link.strength, link.collection_ids, link.tlp))
        return links

    # -- campaigns ---------------------------------------------------------------

    def put_campaign(self, campaign: CampaignRecord) -> CampaignRecord:
        """Read, merge, write back on the condition that nobody wrote in between."""
        sk = _campaign_sk(campaign)
        created = replace(campaign, targets=tuple(dict.fromkeys(campaign.targets)))
        for attempt in range(_MAX_ATTEMPTS):
            item = self._table.get(_CAMPAIGNS, sk)
            params: dict[str, Any] = {"TableName": self._table.name}
            if item is None:
                merged, revision = created, 1
                params["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                revision = int(item["rv"]["N"]) + 1
                merged = _merge(_campaign(item), campaign)
                params["ConditionExpression"] = "rv = :seen"
                params["ExpressionAttributeValues"] = {":seen": item["rv"]}
            try:
                self._table.client.put_item(Item=_campaign_item(merged, revision), **params)
                return merged
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                _backoff(attempt)
        raise UnprocessedWork(f"campaign '{campaign.id}' kept changing while being merged")

    def get_campaign(self, campaign_id: str) -> list[CampaignRecord]:
        prefix = part(campaign_id, _CAMPAIGN_ID_PART * 2)
        items: list[Item] = []
        start: Item | None = None
        while True:
            page, start = self._query(_CAMPAIGNS, begins=prefix, start=start)
            items.extend(page)
            if start is None:
                break
        return [_campaign(item) for item in items]

    def get_campaigns(self, campaign_ids: Iterable[str]) -> dict[str, list[CampaignRecord]]:
        ids = list(dict.fromkeys(campaign_ids))
        found = list(self._table.map(self.get_campaign, ids)) if ids else []
        return {cid: records for cid, records in zip(ids, found, strict=True) if records}

    def list_campaigns(self, limit: int = 100, after: str | None = None) -> list[CampaignRecord]:
        if limit < 1:
            return []
        lowest = None if after is None else _past(part(after, _CAMPAIGN_ID_PART * 2))
        items, start = self._query_up_to(_CAMPAIGNS, limit, at_least=lowest)
        records = [_campaign(item) for item in items]
        if start is not None and records:
            # The other records of the last campaign come in this call too.
            last = part(records[-1].id, _CAMPAIGN_ID_PART * 2)
            while start is not None:
                more, start = self._query(_CAMPAIGNS, begins=last, start=start)
                records.extend(_campaign(item) for item in more)
        return records

    # -- false positives ---------------------------------------------------------

    def put_false_positive(self, entry: FalsePositive) -> None:
        self._table.put(
            {
                "pk": s(_FALSE_POSITIVES),
                "sk": s(part(entry.key, _SK_PART)),
                "k": s(entry.key),
                "why": s(entry.reason),
                "who": s(entry.analyst),
                "t": n(entry.created),
                "cs": strings(entry.collection_ids),
                "l": n(entry.tlp),
            }
        )

    def remove_false_positive(self, key: str) -> bool:
        response = self._table.client.delete_item(
            TableName=self._table.name,
            Key=item_key(_FALSE_POSITIVES, part(key, _SK_PART)),
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))

    def find_false_positives(self, keys: Sequence[str]) -> dict[str, FalsePositive]:
        items = self._table.batch_get((_FALSE_POSITIVES, part(k, _SK_PART)) for k in keys)
        entries = [_false_positive(item) for item in items.values()]
        return {entry.key: entry for entry in entries}

    def list_false_positives(self, limit: int = 1000) -> list[FalsePositive]:
        if limit < 1:
            return []
        items, _ = self._query_up_to(_FALSE_POSITIVES, limit)
        return [_false_positive(item) for item in items]

    # -- queries -----------------------------------------------------------------

    def _query(
        self,
        pk: str,
        *,
        begins: str | None = None,
        at_least: str | None = None,
        start: Item | None = None,
        limit: int | None = None,
        projection: str | None = None,
    ) -> tuple[list[Item], Item | None]:
        """One strongly consistent Query of a partition (from a sort key, or under a prefix)."""
        values: Item = {":pk": s(pk)}
        condition = "pk = :pk"
        if begins is not None:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = s(begins)
        elif at_least is not None:
            condition += " AND sk >= :lowest"
            values[":lowest"] = s(at_least)
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if start is not None:
            params["ExclusiveStartKey"] = start
        if limit is not None:
            params["Limit"] = limit
        if projection is not None:
            params["ProjectionExpression"] = f"pk, sk, {projection}"
        response = self._table.client.query(**params)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def _query_up_to(
        self,
        pk: str,
        limit: int,
        *,
        begins: str | None = None,
        at_least: str | None = None,
        projection: str | None = None,
    ) -> tuple[list[Item], Item | None]:
        """The first `limit` items (a Query returns at most 1 MB at a time), and where to go on."""
        items: list[Item] = []
        start: Item | None = None
        while len(items) < limit:
            page, start = self._query(
                pk,
                begins=begins,
                at_least=at_least,
                start=start,
                limit=limit - len(items),
                projection=projection,
            )
            items.extend(page)
            if start is None:
                break
        return items, start
