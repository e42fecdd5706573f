"""A Bloom filter over a table's stored ids, for the writer-layout prototypes of ``bench/layout.py``.

A prototype for the speed issue's second round, not a product path. The writer looks a new id up in the
store only if the filter says the id may be stored; an id that was never added is ruled out with no page
read. The filter never rules out an id that was added (no false negatives), so a write that consults it
stays exactly-once: a "may be stored" is checked in the store as before, and only a "not stored" skips the
lookup. Extra bits (ids added by a transaction that then rolled back, rows purged later) only cost a
lookup.

Ids are the product's ``rec_``/``fail_`` plus 32 hex digits of SHA-256, so the four probe positions are
four 32-bit slices of those 128 bits (masked to the filter's power-of-two size); an id of any other form is
hashed first. 10 bits per id and 4 probes give about 1.2 % false positives at capacity.

Kept up to date without a scan of the store (:class:`TableFilter`): rows are appended at growing rowids,
so the filter covers every row up to a rowid, and catching up with rows another process wrote is a scan
of the rows above it. Saved as a blob with that rowid, it is reloaded and caught up the same way.
"""

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

BITS_PER_ID = 10
"""Filter bits per id at capacity."""
PROBES = 4
"""Bits set (and tested) per id: four 32-bit slices of its 128-bit hash."""


def _hash128(ident: str) -> int:
    """The id's 128 bits of hash: its last 32 characters read as hex (the product's ids end in 32 hex
    digits of SHA-256), or SHA-256 of the id if they do not read as hex. Any fixed function of the id would
    do for correctness; this one is uniform for the product's ids and cheap."""
    try:
        return int(ident[-32:], 16)
    except ValueError:
        return int.from_bytes(hashlib.sha256(ident.encode()).digest()[:16], "big")


class Bloom:
    """A Bloom filter of ``2**k`` bits (k ≥ 13), holding up to :attr:`capacity` ids at ``BITS_PER_ID``."""

    def __init__(self, capacity: int, bits: bytearray | None = None) -> None:
        size = 1 << max(13, (max(capacity, 1) * BITS_PER_ID - 1).bit_length())
        if size > 1 << 32:
            raise ValueError(f"a filter of {capacity:,} ids needs over 2**32 bits")
        self.mask = size - 1
        self.capacity = size // BITS_PER_ID
        self.bits = bits if bits is not None else bytearray(size >> 3)
        if len(self.bits) != size >> 3:
            raise ValueError(f"{len(self.bits)} bytes is no filter of {size} bits")
        self.count = 0

    def add(self, ids: Iterable[str]) -> None:
        """Add ``ids`` (an id added twice counts twice: :attr:`count` bounds the distinct ids from above)."""
        bits, mask = self.bits, self.mask
        added = 0
        for ident in ids:
            x = _hash128(ident)
            a, b, c, d = x & mask, (x >> 32) & mask, (x >> 64) & mask, (x >> 96) & mask  # PROBES
            bits[a >> 3] |= 1 << (a & 7)
            bits[b >> 3] |= 1 << (b & 7)
            bits[c >> 3] |= 1 << (c & 7)
            bits[d >> 3] |= 1 << (d & 7)
            added += 1
        self.count += added

    def may_hold(self, ident: str) -> bool:
        """False if ``ident`` was never added; True if it was, or (rarely) if it was not."""
        bits, mask = self.bits, self.mask
        x = _hash128(ident)
        a = x & mask
        if not bits[a >> 3] & (1 << (a & 7)):
            return False
        b = (x >> 32) & mask
        if not bits[b >> 3] & (1 << (b & 7)):
            return False
        c = (x >> 64) & mask
        if not bits[c >> 3] & (1 << (c & 7)):
            return False
        d = (x >> 96) & mask
        return bool(bits[d >> 3] & (1 << (d & 7)))

    @property
    def full(self) -> bool:
        """Whether it holds more ids than its capacity (its false-positive rate is then above design)."""
        return self.count > self.capacity


@dataclass(frozen=True)
class Rebuild:
    """A filter rebuilt at a larger size: the family, the ids it scanned and its CPU seconds."""

    family: str
    ids: int
    cpu: float


_FILTERS = (
    "CREATE TABLE IF NOT EXISTS bloom_filters (family TEXT PRIMARY KEY, rid INTEGER NOT NULL, "
    "count INTEGER NOT NULL, capacity INTEGER NOT NULL, bits BLOB NOT NULL)"
)


class TableFilter:
    """A :class:`Bloom` over the ids of ``table`` (column ``column``) up to rowid :attr:`rid`.

    :meth:`catch_up` (call it in the writer's transaction, before the lookups) adds the rows above
    :attr:`rid`, which only another process can have written since this one's last :meth:`added`; after
    it the filter covers every stored row. :meth:`added` records this process's own inserts.
    """

    def __init__(self, table: str, column: str, capacity: int) -> None:
        self.table, self.column = table, column
        self.bloom = Bloom(capacity)
        self.rid = 0
        self.unsaved = 0

    def catch_up(self, conn: sqlite3.Connection) -> int:
        """Add the ids of the rows above :attr:`rid`; how many there were."""
        query = f"SELECT rowid, {self.column} FROM {self.table} WHERE rowid > ? ORDER BY rowid"
        rows = conn.execute(query, (self.rid,)).fetchall()
        if rows:
            self.bloom.add(str(row[1]) for row in rows)
            self.rid = int(rows[-1][0])
            self.unsaved += len(rows)
        return len(rows)

    def added(self, ids: Iterable[str], last_rid: int) -> None:
        """Record this process's insert of ``ids``, the last of them at rowid ``last_rid``."""
        before = self.bloom.count
        self.bloom.add(ids)
        self.unsaved += self.bloom.count - before
        self.rid = max(self.rid, last_rid)

    def grown(self, ids: list[str]) -> None:
        """Rebuild at twice the capacity (or more, to hold twice ``ids``) from every stored id (``ids``: all
        of them, from the caller's scan)."""
        bigger = Bloom(max(self.bloom.capacity * 2, len(ids) * 2))
        bigger.add(ids)
        self.bloom = bigger

    def save(self, conn: sqlite3.Connection) -> None:
        """Store the filter and its rowid (in the caller's transaction)."""
        conn.execute(_FILTERS)
        conn.execute(
            "INSERT OR REPLACE INTO bloom_filters VALUES (?, ?, ?, ?, ?)",
            (self.table, self.rid, self.bloom.count, self.bloom.capacity, bytes(self.bloom.bits)),
        )
        self.unsaved = 0

    @classmethod
    def load(cls, conn: sqlite3.Connection, table: str, column: str, capacity: int) -> "TableFilter":
        """The filter saved for ``table`` (or an empty one of ``capacity``), caught up with later rows."""
        loaded = cls(table, column, capacity)
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bloom_filters'").fetchone()
        query = "SELECT rid, count, capacity, bits FROM bloom_filters WHERE family = ?"
        saved = conn.execute(query, (table,)).fetchone() if exists else None
        if saved is not None:
            loaded.bloom = Bloom(int(saved[2]), bytearray(saved[3]))
            loaded.bloom.count = int(saved[1])
            loaded.rid = int(saved[0])
        loaded.catch_up(conn)
        return loaded
