"""Sightings: what a SIEM saw of an indicator, written as STIX, and what it does to the score.

Two ways in, one feedback:

* `POST /api/v1/sightings` (report): any authenticated caller reports that an
  organisation saw a value (or an indicator, by id) it may read, how often,
  when, and whether it was a true or a false positive. An indicator the
  caller may not read is treated as absent: the answer is the same whether it
  exists above the caller's clearance or not at all.
* Sightings partners POST over TAXII (from_taxii): every new `sighting` whose
  sighting_of_ref is an indicator of the same collection counts the same way.
  It is a true positive unless it carries steppe's extension with the outcome
  false-positive, or OpenCTI's `x_opencti_negative: true`.

For each indicator sighted, `feedback`:

* steppe's own indicators (created by the organisation's identity, carrying
  the score extension) get a new version: a true positive refreshes the score
  (steppe.scoring.sighting_feedback.refresh) and pushes valid_until out to at
  least the new decay expiry; a false positive lowers it (penalty). A
  partner's indicator, or a revoked one, gets the sighting and nothing else.
* a false positive is tallied per value (every indicator, every organisation,
  store.port.sighting_tallies); once the tally reaches the configured count
  the value is declared a false positive by steppe itself
  (LifecycleService.declare_false_positive_from_sightings), with the
  reporters' notes as its reason, and its indicators are revoked.

Two reports on the same indicator at the same moment may each write a new
version from the same previous one: the later version wins and one refresh
is lost. Scores are coarse evidence; the store is never inconsistent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

from steppe.access.admin_models import parse
from steppe.access.caller import Caller
from steppe.access.visibility import may_see
from steppe.conversion.identity_objects import producer_identity
from steppe.conversion.sighting_objects import reporter_identity, sighting_object
from steppe.errors import InvalidInput, NotFound
from steppe.lifecycle.retraction import LifecycleService, check_indicator_id, value_keys
from steppe.lifecycle.revocation import revocation_stamp
from steppe.observables.correlation_keys import indicator_keys
from steppe.scoring.decay_curve import decay_curve
from steppe.scoring.decay_score import expires_at, score_at
from steppe.scoring.sighting_feedback import ScoreState, penalty, refresh
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id
from steppe.stix.score_extension import (
    FALSE_POSITIVE,
    MAX_NOTE,
    TRUE_POSITIVE,
    extension_definition,
    project_identity,
    read_outcome,
    read_score,
    score_extension,
)
from steppe.stix.timestamps import format_stix, micros_or_none, now_micros, parse_micros
from steppe.store.latest import latest_versions
from steppe.store.port import (
    CatalogStore,
    IdentityClaims,
    JobQueue,
    ObjectStore,
    ObservableIndex,
    SightingTallies,
    StoredObject,
)
from steppe.store.port.feed_index import FeedIndex
from steppe.store.write_path import STEPPE, Candidate, WritePath, Writer, candidate

MAX_COUNT = 1_000_000
MAX_ORGANISATION = 200
# Indicators one report may sight (a value held in many collections): bounded work.
MAX_SIGHTED = 100
# How many occurrences of a value the observable index is asked for.
_OCCURRENCES = 1000
NOT_FOUND = "no indicator you may read carries that value"

Outcome = Literal["true-positive", "false-positive"]


def _timestamp(value: str | None) -> str | None:
    if value is not None:
        parse_micros(value)  # TimestampError (a ValueError) names what is wrong
    return value


Timestamp = Annotated[
    StrictStr | None,
    Field(default=None, max_length=64, description="RFC 3339 UTC, e.g. 2026-12-03T08:00:00Z"),
    AfterValidator(_timestamp),
]


class SightingReport(BaseModel):
    """The body of POST /api/v1/sightings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Annotated[StrictStr | None, Field(max_length=4096)] = Field(
        default=None, description="what was seen: an IP, CIDR, domain, URL, hash or email"
    )
    indicator_id: Annotated[StrictStr | None, Field(max_length=100)] = Field(
        default=None, description="or the indicator sighted (indicator--<UUID>)"
    )
    count: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] = 1
    first_seen: Timestamp = None
    last_seen: Timestamp = None
    organisation: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ORGANISATION)] = Field(
        description="the organisation that saw it"
    )
    outcome: Outcome
    note: Annotated[StrictStr | None, Field(max_length=MAX_NOTE)] = Field(
        default=None, description="why (a false positive's reason)"
    )

    @model_validator(mode="after")
    def _one_target(self) -> SightingReport:
        if (self.value is None) == (self.indicator_id is None):
            raise ValueError("give either value or indicator_id, not both or neither")
        if not self.organisation.strip():
            raise ValueError("organisation must not be blank")
        return self


def parse_report(document: Mapping[str, Any]) -> SightingReport:
    """The body as a report; InvalidInput (400) naming the field at fault."""
    report = parse(SightingReport, document)
    first, last = report.first_seen, report.last_seen
    if first is not None and last is not None and parse_micros(first) > parse_micros(last):
        raise InvalidInput("first_seen is after last_seen", where="first_seen")
    return report


@dataclass(frozen=True, slots=True)
class Sighted:
    """One indicator a report (or a TAXII sighting) was about, and what became of it."""

    indicator_id: str
    collection_id: str
    sighting_id: str | None
    score: int | None  # its score now (None: it has no single value, so no score)
    effect: str  # "refreshed" | "lowered" | "recorded" (no new version)


@dataclass(frozen=True, slots=True)
class SightingResult:
    outcome: str
    sighted: list[Sighted]
    false_positive_declared: bool

    @property
    def sighting_ids(self) -> list[str]:
        return [s.sighting_id for s in self.sighted if s.sighting_id is not None]


@dataclass(slots=True)
class _Report:
    """A sighting as the feedback needs it, whichever way it came in."""

    outcome: str
    last_seen: int
    organisation: str
    note: str | None
    keys: list[str] = field(default_factory=list)


class SightingService:
    def __init__(
        self,
        *,
        catalog: CatalogStore,
        objects: ObjectStore,
        claims: IdentityClaims,
        feed_index: FeedIndex,
        index: ObservableIndex,
        tallies: SightingTallies,
        lifecycle: LifecycleService,
        org_name: str,
        api_root: str,
        false_positive_sightings: int,
        queue: JobQueue | None = None,
        after_writes: Callable[[], Sequence[dict[str, object]]] | None = None,
    ) -> None:
        """after_writes: the follow-up jobs (push delivery) to queue on `queue` once a
        report has written; a TAXII sighting's are queued by the job runner."""
        self.catalog = catalog
        self.queue = queue
        self.after_writes = after_writes
        self.objects = objects
        self.feed_index = feed_index
        self.index = index
        self.tallies = tallies
        self.lifecycle = lifecycle
        self.org_name = org_name
        self.api_root = api_root
        self.false_positive_sightings = false_positive_sightings
        self.producer_id = org_identity_id(org_name)
        self.writes = WritePath(objects, claims, self.producer_id, feed_index)

    # -- POST /api/v1/sightings ----------------------------------------------------

    def report(self, report: SightingReport, caller: Caller) -> SightingResult:
        """Write a sighting of every indicator the report names that the caller may read."""
        caller.require_authenticated()
        if report.value is not None:
            keys = value_keys(report.value)
            found = self._by_keys(keys, caller)
        else:
            indicator_id = check_indicator_id(str(report.indicator_id))
            found = self._by_id(indicator_id, caller)
            keys = []
        if not found:
            raise NotFound(NOT_FOUND, where="value" if report.value is not None else "indicator_id")
        now = now_micros()
        first = parse_micros(report.first_seen) if report.first_seen else None
        last = parse_micros(report.last_seen) if report.last_seen else None
        last = last if last is not None else max(now, first or now)
        first = first if first is not None else min(now, last)
        if first > last:
            raise InvalidInput("first_seen is after last_seen", where="first_seen")
        organisation = report.organisation.strip()
        note = report.note.strip() if report.note and report.note.strip() else None
        producer_id, producer_name = self._producer(caller)
        sighted: list[Sighted] = []
        for collection_id, record in found:
            indicator = _body(record)
            marking = tlp.BY_RANK[record.tlp].marking_id
            reporter = reporter_identity(
                caller.partner_id or "", organisation, producer_id, now, marking
            )
            sighting = sighting_object(
                indicator_id=record.id,
                count=report.count,
                first_seen=first,
                last_seen=last,
                where_sighted=reporter["id"],
                producer_id=producer_id,
                outcome=report.outcome,
                note=note,
                stamp=now,
                marking=marking,
            )
            self._write_sighting(
                collection_id, record.tlp, sighting, reporter, producer_id, producer_name, now
            )
            keys = keys or indicator_keys(indicator)
            # a sighting reported in the future is no evidence beyond now
            effect, score = self._rescore(
                collection_id, record, report.outcome, min(last, now), now
            )
            sighted.append(Sighted(record.id, collection_id, sighting["id"], score, effect))
        declared = self._tally(
            _Report(report.outcome, last, organisation, note, list(dict.fromkeys(keys)))
        )
        if declared:  # the declaration revoked them: say what they are now
            sighted = [self._now(s) for s in sighted]
        if self.after_writes is not None and self.queue is not None:
            follow_ons = list(self.after_writes())
            if follow_ons:
                self.queue.send(follow_ons)
        return SightingResult(report.outcome, sighted, declared)

    # -- sightings posted over TAXII ---------------------------------------------------

    def from_taxii(
        self, collection_id: str, sightings: Sequence[Mapping[str, Any]], writer: Writer
    ) -> list[SightingResult]:
        """The feedback of sightings just stored in the collection through a TAXII POST.

        writer: who posted them; an indicator above its clearance is left alone.
        """
        wanted = {
            str(s["sighting_of_ref"]): s
            for s in sightings
            if isinstance(s.get("sighting_of_ref"), str)
            and s["sighting_of_ref"].startswith("indicator--")
        }
        if not wanted:
            return []
        records = latest_versions(self.objects, collection_id, wanted)
        now = now_micros()
        results = []
        for sighting in sightings:
            record = records.get(str(sighting.get("sighting_of_ref")))
            if record is None or record.type != "indicator" or record.tlp > writer.clearance:
                continue
            report = self._taxii_report(collection_id, sighting, _body(record), now)
            effect, score = self._rescore(
                collection_id, record, report.outcome, report.last_seen, now
            )
            declared = self._tally(report)
            sighted = Sighted(record.id, collection_id, str(sighting.get("id")), score, effect)
            results.append(
                SightingResult(
                    report.outcome, [self._now(sighted) if declared else sighted], declared
                )
            )
        return results

    def _taxii_report(
        self,
        collection_id: str,
        sighting: Mapping[str, Any],
        indicator: Mapping[str, Any],
        now: int,
    ) -> _Report:
        said = read_outcome(sighting)
        negative = sighting.get("x_opencti_negative") is True
        outcome = (
            FALSE_POSITIVE if negative or (said and said[0] == FALSE_POSITIVE) else TRUE_POSITIVE
        )
        note = said[1] if said else None
        if note is None and outcome == FALSE_POSITIVE:
            description = sighting.get("description")
            note = description[:MAX_NOTE] if isinstance(description, str) and description else None
        last = micros_or_none(sighting.get("last_seen")) or micros_or_none(
            sighting.get("first_seen")
        )
        last = min(last if last is not None else now, now)  # a future sighting is not evidence
        # Who saw it: the first place sighted, else the sighting's creator, by name.
        where = sighting.get("where_sighted_refs")
        named = [where[0] if isinstance(where, list) and where else None]
        named.append(sighting.get("created_by_ref"))
        ids = [i for i in named if isinstance(i, str)]
        names = {
            object_id: _body(record).get("name")
            for object_id, record in latest_versions(self.objects, collection_id, ids).items()
        }
        found = [names.get(i) for i in ids]
        organisation = next(
            (name[:MAX_ORGANISATION] for name in found if isinstance(name, str) and name.strip()),
            "a TAXII partner",
        )
        return _Report(outcome, last, organisation, note, indicator_keys(indicator))

    # -- the feedback both share -----------------------------------------------------

    def _rescore(
        self, collection_id: str, record: StoredObject, outcome: str, sighted_last: int, now: int
    ) -> tuple[str, int | None]:
        """A new version of a steppe indicator with its score moved; (effect, score now)."""
        indicator = _body(record)
        fields = read_score(indicator)
        if (
            fields is None
            or indicator.get("created_by_ref") != self.producer_id
            or indicator.get("revoked") is True
        ):
            return "recorded", self._entry_score(collection_id, record.id)
        curve = decay_curve(fields.lifetime_days, fields.decay_speed, fields.threshold)
        before = ScoreState(fields.score, fields.last_seen)
        after = refresh(before, sighted_last) if outcome == TRUE_POSITIVE else penalty(before)
        version = dict(indicator)
        version["extensions"] = {
            **(indicator.get("extensions") or {}),
            **score_extension(fields._replace(score=after.base, last_seen=after.last_seen_us)),
        }
        version["modified"] = format_stix(revocation_stamp(record.version, now))
        if outcome == TRUE_POSITIVE:
            until = micros_or_none(indicator.get("valid_until"))
            ends = expires_at(after.base, after.last_seen_us, curve)
            if until is not None and until < ends:
                version["valid_until"] = format_stix(ends)
        self.writes.write(
            collection_id,
            [candidate(version, record.tlp, spec_version=record.spec_version)],
            STEPPE,
        )
        effect = "refreshed" if outcome == TRUE_POSITIVE else "lowered"
        return effect, score_at(after.base, after.last_seen_us, now, curve)

    def _tally(self, report: _Report) -> bool:
        """Count a false positive per value; declare the value once the count is reached."""
        if report.outcome != FALSE_POSITIVE or not report.keys:
            return False
        due: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        for key in report.keys:
            tally = self.tallies.count_false_positive_sighting(
                key, report.organisation, report.note
            )
            if tally.count >= self.false_positive_sightings:
                due.append((key, tally.notes, tally.organisations))
        if not due:
            return False
        declared = self.index.find_false_positives([key for key, _, _ in due])
        done = False
        for key, notes, organisations in due:
            if key in declared:
                continue
            self.lifecycle.declare_false_positive_from_sightings([key], notes, organisations)
            done = True
        return done

    # -- finding what was sighted ------------------------------------------------------

    def _by_id(self, indicator_id: str, caller: Caller) -> list[tuple[str, StoredObject]]:
        found = []
        for collection in self.catalog.list_collections(self.api_root):
            if not caller.may_read(collection.id):
                continue
            record = latest_versions(self.objects, collection.id, [indicator_id]).get(indicator_id)
            if record is not None and _readable(record, caller):
                found.append((collection.id, record))
        return found

    def _by_keys(self, keys: Sequence[str], caller: Caller) -> list[tuple[str, StoredObject]]:
        occurrences = self.index.find_values(keys, limit_per_key=_OCCURRENCES)
        by_collection: dict[str, set[str]] = {}
        for key in keys:
            for o in occurrences.get(key, ()):
                if o.object_id.startswith("indicator--") and may_see(
                    caller, o.collection_id, o.tlp
                ):
                    by_collection.setdefault(o.collection_id, set()).add(o.object_id)
        found: list[tuple[str, StoredObject]] = []
        for collection_id in sorted(by_collection):
            records = latest_versions(
                self.objects, collection_id, sorted(by_collection[collection_id])
            )
            for indicator_id in sorted(records):
                record = records[indicator_id]
                if _readable(record, caller) and set(indicator_keys(_body(record))) & set(keys):
                    found.append((collection_id, record))
        # A value published again after a revocation has a successor: the live ones first.
        found.sort(key=lambda item: _body(item[1]).get("revoked") is True)
        return found[:MAX_SIGHTED]

    def _entry_score(self, collection_id: str, indicator_id: str) -> int | None:
        entries = self.feed_index.get_feed_entries(collection_id, [indicator_id])
        return entries[0].score if entries else None

    def _now(self, sighted: Sighted) -> Sighted:
        """What an indicator is after a false-positive declaration (revoked: score 0)."""
        record = latest_versions(self.objects, sighted.collection_id, [sighted.indicator_id]).get(
            sighted.indicator_id
        )
        if record is not None and _body(record).get("revoked") is True:
            return Sighted(
                sighted.indicator_id, sighted.collection_id, sighted.sighting_id, 0, "revoked"
            )
        return sighted

    # -- writing -------------------------------------------------------------------

    def _producer(self, caller: Caller) -> tuple[str, str]:
        """The caller's producer identity and its name, as ingest picks them
        (steppe.ingest.submission_intake): the organisation's for staff, the
        partner's own for a partner."""
        identity = caller.identity_id or self.producer_id
        name = self.org_name if identity == self.producer_id else (caller.partner or "unknown")
        return identity, name

    def _write_sighting(
        self,
        collection_id: str,
        rank: int,
        sighting: dict[str, Any],
        reporter: dict[str, Any],
        producer_id: str,
        producer_name: str,
        now: int,
    ) -> None:
        """The sighting, with the identities and marking it refers to that the collection
        lacks (or holds only above the sighting's TLP), in one write."""
        marking = tlp.BY_RANK[rank]
        producer = producer_identity(producer_id, producer_name, format_stix(now))
        constant = [
            marking.marking_definition(),
            project_identity(),
            extension_definition(),
            producer,
        ]
        held = latest_versions(
            self.objects, collection_id, [obj["id"] for obj in constant] + [reporter["id"]]
        )
        # What the sighting refers to, for a collection that lacks it (one of partner
        # content only may lack steppe's extension definition).
        to_write: list[Candidate] = [
            candidate(obj, tlp.CLEAR.rank) for obj in constant if obj["id"] not in held
        ]
        stored_reporter = held.get(reporter["id"])
        if stored_reporter is None or stored_reporter.tlp > rank:
            if stored_reporter is not None:
                stamp = revocation_stamp(stored_reporter.version, now)
                reporter = {
                    **reporter,
                    "created": _body(stored_reporter).get("created", reporter["created"]),
                    "modified": format_stix(stamp),
                }
            to_write.append(candidate(reporter, rank))
        to_write.append(candidate(sighting, rank))
        written = self.writes.write(collection_id, to_write, STEPPE)
        if written.refused:
            raise InvalidInput(written.refused[0].reason, where="indicator_id")


def describe(result: SightingResult) -> dict[str, object]:
    """The answer to POST /api/v1/sightings."""
    return {
        "sightings": result.sighting_ids,
        "indicators": [
            {
                "id": s.indicator_id,
                "collection": s.collection_id,
                "score": s.score,
                "outcome": result.outcome,
                "effect": s.effect,
            }
            for s in result.sighted
        ],
        "false_positive_declared": result.false_positive_declared,
    }


def _readable(record: StoredObject, caller: Caller) -> bool:
    return record.type == "indicator" and record.tlp <= caller.clearance


def _body(record: StoredObject) -> dict[str, Any]:
    return orjson.loads(record.body) if record.body else {}
