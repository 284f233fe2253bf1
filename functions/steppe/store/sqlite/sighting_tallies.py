"""False-positive sighting tallies in the embedded store: one row per value key."""

from __future__ import annotations

import orjson

from steppe.store.port.sighting_tallies import SightingTallies, SightingTally, tallied
from steppe.store.sqlite.database import Database

_READ = "SELECT count, detail FROM sighting_tallies WHERE key = ?"


def _tally(key: str, row: tuple | None) -> SightingTally | None:
    if row is None:
        return None
    detail = orjson.loads(row[1])
    return SightingTally(
        key, int(row[0]), tuple(detail.get("organisations", ())), tuple(detail.get("notes", ()))
    )


class SqliteSightingTallies(SightingTallies):
    """SightingTallies methods; mixed into SqliteStore."""

    _db: Database

    def count_false_positive_sighting(
        self, key: str, organisation: str, note: str | None
    ) -> SightingTally:
        # Read and write under the write lock: concurrent reports each count once.
        with self._db.write() as conn:
            after = tallied(
                _tally(key, conn.execute(_READ, (key,)).fetchone()), key, organisation, note
            )
            conn.execute(
                "INSERT OR REPLACE INTO sighting_tallies (key, count, detail) VALUES (?, ?, ?)",
                (
                    key,
                    after.count,
                    orjson.dumps(
                        {"organisations": list(after.organisations), "notes": list(after.notes)}
                    ),
                ),
            )
        return after

    def get_sighting_tally(self, key: str) -> SightingTally | None:
        return _tally(key, self._db.connection().execute(_READ, (key,)).fetchone())
