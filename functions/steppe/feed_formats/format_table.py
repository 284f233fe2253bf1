"""The feed formats by name: what each renders, its media type and the entry types it carries.

Three shapes of renderer:
- `render(entries, info) -> bytes`: the feed's one document (text, csv,
  suricata-dataset, zeek; suricata-iprep's reputation file);
- `render_files(entries, info) -> {path: bytes}`: a feed of several files
  served under the feed's URL (suricata-iprep: the reputation file and the
  categories file; misp: manifest.json, one event file per campaign or
  submission, hashes.csv). `main_path` names the file the feed's URL itself
  serves; `None` when the URL serves only the files (misp);
- `render_objects(objects) -> bytes`: stix, which wraps the stored indicator
  bodies (stix_bundle explains why), not FeedEntry summaries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import (
    csv_feed,
    edl_text,
    misp_feed,
    stix_bundle,
    suricata_dataset,
    suricata_iprep,
    zeek_intel,
)
from .entries import FeedEntry, FeedInfo

Renderer = Callable[[Sequence[FeedEntry], FeedInfo], bytes]
FilesRenderer = Callable[[Sequence[FeedEntry], FeedInfo], Mapping[str, bytes]]
ObjectsRenderer = Callable[[Sequence[Mapping[str, object]]], bytes]


@dataclass(frozen=True, slots=True)
class FeedFormat:
    name: str
    file_name: str  # what the feed's URL ends with ("" for a directory of files: misp)
    media_type: str  # of the document the feed's URL serves
    types: frozenset[str]  # the entry types it can carry; others are left out
    render: Renderer | None = None
    render_files: FilesRenderer | None = None
    main_path: str | None = None  # with render_files: the file the feed's URL serves
    file_media_types: Mapping[str, str] = field(default_factory=dict)
    render_objects: ObjectsRenderer | None = None
    check_types: Callable[[Sequence[str]], None] | None = None  # stricter than `types`


FORMATS: dict[str, FeedFormat] = {
    "text": FeedFormat(
        "text",
        "feed.txt",
        edl_text.MEDIA_TYPE,
        edl_text.FORMAT_TYPES,
        edl_text.render,
        check_types=edl_text.check_types,
    ),
    "csv": FeedFormat(
        "csv", "feed.csv", csv_feed.MEDIA_TYPE, csv_feed.FORMAT_TYPES, csv_feed.render
    ),
    "stix": FeedFormat(
        "stix",
        "bundle.json",
        stix_bundle.MEDIA_TYPE,
        stix_bundle.FORMAT_TYPES,
        render_objects=stix_bundle.render_bundle,
    ),
    "suricata-iprep": FeedFormat(
        "suricata-iprep",
        suricata_iprep.REPUTATION_PATH,
        suricata_iprep.MEDIA_TYPE,
        suricata_iprep.FORMAT_TYPES,
        suricata_iprep.render,
        render_files=suricata_iprep.render_files,
        main_path=suricata_iprep.REPUTATION_PATH,
        file_media_types={
            suricata_iprep.REPUTATION_PATH: suricata_iprep.MEDIA_TYPE,
            suricata_iprep.CATEGORIES_PATH: suricata_iprep.MEDIA_TYPE,
        },
    ),
    "suricata-dataset": FeedFormat(
        "suricata-dataset",
        "dataset.lst",
        suricata_dataset.MEDIA_TYPE,
        suricata_dataset.FORMAT_TYPES,
        suricata_dataset.render,
        check_types=suricata_dataset.check_types,
    ),
    "zeek": FeedFormat(
        "zeek", "intel.dat", zeek_intel.MEDIA_TYPE, zeek_intel.FORMAT_TYPES, zeek_intel.render
    ),
    "misp": FeedFormat(
        "misp",
        "",
        "application/json",
        misp_feed.FORMAT_TYPES,
        render_files=misp_feed.render_files,
    ),
}


def format_named(name: str) -> FeedFormat:
    """The format called `name`; ValueError naming the known ones otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown feed format {name!r}; known formats: {', '.join(sorted(FORMATS))}"
        ) from None


def check_feed_types(name: str, types: Sequence[str]) -> None:
    """ValueError when a feed of format `name` is asked for types it cannot carry.

    For feed creation: an empty `types` means "every type" and is refused only
    where the format needs one kind of value (text, suricata-dataset).
    """
    feed_format = format_named(name)
    unsupported = sorted(set(types) - feed_format.types)
    if unsupported:
        raise ValueError(
            f"the {name} format cannot carry {', '.join(unsupported)}; "
            f"it carries {', '.join(sorted(feed_format.types))}"
        )
    if feed_format.check_types is not None:
        feed_format.check_types(types)
