"""First start: one API root, one default collection and the first admin.

Run on every start, it only creates what is missing, and the first admin only
once: the API root is written last, so a store that has one has finished its
first start. After that STEPPE_ADMIN_KEY is ignored: it never re-creates a
deleted admin, never gives back a key that was rotated or revoked and never
adds a key (an admin who lost every key gets one with `steppe partner rotate`).

The first admin's key is STEPPE_ADMIN_KEY when set; otherwise one is
generated, returned once (the caller prints it) and written to the data dir
with mode 0600.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from steppe.access.partners import add_partner
from steppe.config import Settings
from steppe.stix.timestamps import now_micros
from steppe.store.port import ApiRoot, CatalogStore, Collection, Store

ADMIN_NAME = "admin"
DEFAULT_COLLECTION_TITLE = "steppe indicators"


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    api_root: ApiRoot
    default_collection: Collection
    admin_key: str | None  # set only when a key was generated or installed by this call
    admin_key_file: Path | None


def default_collection(catalog: CatalogStore, api_root: str) -> Collection | None:
    for collection in catalog.list_collections(api_root):
        if collection.default:
            return collection
    return None


def ensure_bootstrapped(
    store: Store, settings: Settings, admin_key: str | None = None
) -> BootstrapResult:
    admin_key = admin_key if admin_key is not None else os.environ.get("STEPPE_ADMIN_KEY") or None
    now = now_micros()
    root = store.get_api_root(settings.api_root)
    first_start = root is None
    collection = default_collection(store, settings.api_root)
    if collection is None:
        collection = Collection(
            id=str(uuid.uuid4()),
            api_root=settings.api_root,
            title=DEFAULT_COLLECTION_TITLE,
            description="Indicators and campaigns produced from analyst submissions.",
            created=now,
            default=True,
        )
        store.create_collection(collection)

    issued_key: str | None = None
    key_file: Path | None = None
    # Only on the first start; a first start cut short before its API root was
    # written finds the admin it already made and leaves it (and its key) alone.
    if first_start and store.get_partner(ADMIN_NAME) is None:
        issued = add_partner(
            store,
            ADMIN_NAME,
            "admin",
            org_name=settings.org_name,
            can_read=[collection.id],
            can_write=[collection.id],
            key=admin_key,
        )
        issued_key = issued.key
        if admin_key is None and settings.backend == "sqlite":
            key_file = _write_key_file(settings.data_dir, issued.key)

    if root is None:
        root = ApiRoot(
            id=settings.api_root,
            title=f"{settings.org_name} indicator sharing",
            description="STIX 2.1 indicators, campaigns and their context, shared by "
            f"{settings.org_name}.",
            created=now,
        )
        store.put_api_root(root)
    return BootstrapResult(root, collection, issued_key, key_file)


def _write_key_file(data_dir: Path, key: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "admin.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    return path
