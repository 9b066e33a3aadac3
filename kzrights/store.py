"""Where the compiled fact base and its search index live, behind one small interface.

``Store`` is what ``FactBase`` and ``Searcher`` read: records (reports, entities, topics,
ratings, claims) and the search index (postings by folded word, stem and lay term, the claims
of each tag and concept, name forms, the vocabulary) — each asked for by key, so a query
reads only what it needs. Two stores implement it:

- ``DictStore``: the compiled data in memory, as ``compile_fact_base`` makes it (tests, a
  fact base checked without a cache, a run whose cache cannot be written);
- ``SqliteStore`` (``kzrights.sqlstore``): the same data in an SQLite file in the user's
  cache folder, opened read-only; a query reads the postings of its own words, the rows of
  the claims it ranks, and the records of the claims it shows.

Positions: every claim has an integer position; the positions are the claim numbers the
index speaks in. Their order is not the fact-base order (``positions()`` gives that), and
they need not be dense: ``n`` is the number of claims. A store whose ``length_ordered`` is
true numbers claims so that a smaller position never has a longer text: sorting positions
sorts by length, which lets a query over a very common word rank the shortest claims first
and stop early (see ``Searcher``).
"""

from __future__ import annotations

import marshal
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

# A compiled claim record is a list in this order (see ``load.compile_fact_base``).
CLAIM_ID, CLAIM_TEXT, CLAIM_REPORT = 0, 1, 2
CLAIM_DATE, CLAIM_PEOPLE, CLAIM_ORGS, CLAIM_PLACES, CLAIM_TOPICS = 6, 7, 8, 9, 10
CLAIM_RELATED = 12
CLAIM_TERMS = 15
ENTITY_KIND, ENTITY_ID, ENTITY_NAME, ENTITY_ALIASES, ENTITY_DESCRIPTION, ENTITY_ROLE = 0, 1, 2, 3, 4, 5
TOPIC_ID, TOPIC_LABEL, TOPIC_ALIASES, TOPIC_DESCRIPTION, TOPIC_RU, TOPIC_KK = 0, 1, 2, 3, 4, 5

EMPTY = b""


def pack(positions: Iterable[int]) -> bytes:
    """Claim positions as packed unsigned ints: one bytes object loads far faster than a
    list of ints, and a query unpacks only the lists it needs."""
    return array("I", positions).tobytes()


def unpack(packed: bytes) -> array[int]:
    out = array("I")
    # a stored value is trusted as bytes, never as a length: a torn one is cut, not an error
    out.frombytes(packed[: len(packed) - len(packed) % 4] if len(packed) % 4 else packed)
    return out


class Row(NamedTuple):
    """What ranking needs of one claim (not its full record)."""

    id: str
    text: str  # normalised text
    term_text: str  # normalised lay search terms and the roles of the people it names
    length: int  # of the claim's text as written
    report: str
    date: str | None
    figure: bool  # the text holds a digit
    people: tuple[str, ...]


class Members:
    """A set of words asked one at a time (name words, proper words): ``w in members``."""

    def __init__(self, look: Any):
        self._look = look
        self._seen: dict[str, bool] = {}

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        got = self._seen.get(word)
        if got is None:
            got = self._seen[word] = bool(self._look(word))
        return got


class Store:
    """The interface; see the module's docstring. Subclasses implement every method."""

    root: str = ""
    n: int = 0
    length_ordered: bool = False

    # -- records ---------------------------------------------------------------------
    def reports(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def entities(self) -> list[list[Any]]:
        """Every entity record, in fact-base order."""
        raise NotImplementedError

    def entity(self, tag: str) -> list[Any] | None:
        """One entity (``person:id``) or topic (``topic:id``) record."""
        raise NotImplementedError

    def topics(self) -> list[list[Any]]:
        raise NotImplementedError

    def ratings(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def claim(self, pos: int) -> list[Any]:
        """The compiled record of the claim at ``pos``."""
        raise NotImplementedError

    def positions(self) -> list[int]:
        """Every claim's position, in fact-base order (file by file, as written)."""
        raise NotImplementedError

    def position_of(self, claim_id: str) -> int | None:
        raise NotImplementedError

    def claim_ids(self) -> list[str]:
        raise NotImplementedError

    def report_positions(self, report: str) -> set[int]:
        raise NotImplementedError

    def report_counts(self) -> dict[str, int]:
        raise NotImplementedError

    def link_ends(self) -> int:
        """How many links the claims hold, each counted on both its claims (a pass over the
        records that keeps none of them)."""
        return sum(len(self.claim(p)[CLAIM_RELATED]) for p in self.positions())

    def tags(self) -> list[str]:
        """Every tag some claim carries."""
        raise NotImplementedError

    def tag_count(self, tag: str) -> int:
        return len(self.by_tag(tag))

    # -- search index ----------------------------------------------------------------
    def posting(self, key: str) -> tuple[str, array[int]]:
        """The claims holding a folded word in their text, and the word as first written."""
        raise NotImplementedError

    def posting_size(self, key: str) -> int:
        """How many claims hold the folded word ``key`` in their text (its postings unread)."""
        raise NotImplementedError

    def in_postings(self, key: str) -> bool:
        raise NotImplementedError

    def has_word(self, key: str) -> bool:
        """The word is in some claim's text or lay search terms."""
        raise NotImplementedError

    def term_postings(self, key: str) -> array[int]:
        raise NotImplementedError

    def stem_postings(self, stem: str) -> array[int]:
        raise NotImplementedError

    def by_tag(self, tag: str) -> array[int]:
        """The claims tagged ``tag``, in fact-base order."""
        raise NotImplementedError

    def vocab_from(self, key: str) -> Iterator[str]:
        """The vocabulary (every folded word of the index) in sorted order, from ``key`` on."""
        raise NotImplementedError

    def typo_candidates(self, key: str) -> list[str]:
        """Vocabulary words that may be a typo's correction (a superset of those within the
        fuzzy cut-off), in vocabulary order."""
        raise NotImplementedError

    def forms_for(self, key: str) -> list[list[Any]]:
        """Name forms whose folded key is ``key``: [tag, display, folded key, via, normalised]."""
        raise NotImplementedError

    def partials_for(self, key: str) -> list[list[Any]]:
        """Name forms of which ``key`` is a run of two or more words."""
        raise NotImplementedError

    def form_key_candidates(self, key: str) -> list[str]:
        """Folded name keys that may be a typo's correction, in name-form order."""
        raise NotImplementedError

    def forms_exact(self, norm: str, fold: str) -> list[list[Any]]:
        """Name forms written as ``norm`` or folding to ``fold``, in name-form order."""
        raise NotImplementedError

    def forms_near(self, spans: Sequence[str]) -> list[list[Any]]:
        """Name forms that may be near one of ``spans`` (a superset), in name-form order."""
        raise NotImplementedError

    def all_forms(self) -> list[list[Any]]:
        raise NotImplementedError

    _name_words: Members  # set by each store: words of names, and proper nouns
    _proper: Members

    @property
    def name_words(self) -> Members:
        return self._name_words

    @property
    def proper_words(self) -> Members:
        return self._proper

    def concept_en(self, key: str) -> array[int]:
        raise NotImplementedError

    def concept_ru(self, bucket: str) -> dict[str, bytes]:
        raise NotImplementedError

    def concept_kk(self, bucket: str) -> list[list[Any]]:
        raise NotImplementedError

    def concept_groups(self, concept: int) -> list[tuple[str, array[int]]]:
        """The claims holding a concept, grouped by the term (or "topic X") that they hold it by."""
        raise NotImplementedError

    def rows(self, positions: Iterable[int]) -> dict[int, Row]:
        raise NotImplementedError

    def row(self, pos: int) -> Row:
        return self.rows((pos,))[pos]

    def close(self) -> None:
        pass


class DictStore(Store):
    """The compiled data (``load.compile_fact_base``) held in memory."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.index: dict[str, Any] = data["index"]
        self.root = data.get("root", "")
        self.n = len(data["claims"])
        self._position: dict[str, int] | None = None
        self._entity: dict[str, list[Any]] | None = None
        self._vocab: list[str] | None = None
        self._name_words = Members(set(self.index.get("name_words", "").split("\n")).__contains__)
        self._proper = Members((set(self.index.get("proper_words", "").split("\n")) - {""}).__contains__)
        self._rows: dict[int, Row] = {}

    # records
    def reports(self) -> list[dict[str, Any]]:
        return list(self.data["reports"])

    def entities(self) -> list[list[Any]]:
        return list(self.data["entities"])

    def entity(self, tag: str) -> list[Any] | None:
        if self._entity is None:
            table = {f"{e[ENTITY_KIND]}:{e[ENTITY_ID]}": e for e in self.data["entities"]}
            table.update({f"topic:{t[TOPIC_ID]}": t for t in self.data["topics"]})
            self._entity = table
        return self._entity.get(tag)

    def topics(self) -> list[list[Any]]:
        return list(self.data["topics"])

    def ratings(self) -> list[dict[str, Any]]:
        return list(self.data["ratings"])

    def claim(self, pos: int) -> list[Any]:
        value: list[Any] = marshal.loads(self.data["claims"][pos])
        return value

    def positions(self) -> list[int]:
        return list(range(self.n))

    def position_of(self, claim_id: str) -> int | None:
        if self._position is None:
            self._position = {cid: i for i, cid in enumerate(self.index["ids"])}
        return self._position.get(claim_id)

    def claim_ids(self) -> list[str]:
        return list(self.index["ids"])

    def report_positions(self, report: str) -> set[int]:
        return {i for i, r in enumerate(self.index["reports"]) if r == report}

    def report_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rep in self.index["reports"]:
            out[rep] = out.get(rep, 0) + 1
        return out

    def tags(self) -> list[str]:
        return list(self.index["by_tag"])

    def tag_count(self, tag: str) -> int:
        return len(self.index["by_tag"].get(tag, EMPTY)) // 4

    # index
    def posting(self, key: str) -> tuple[str, array[int]]:
        entry = self.index["postings"].get(key, EMPTY)
        if not entry:
            return "", array("I")
        cut = entry.index(0)
        return entry[:cut].decode(), unpack(entry[cut + 1 :])

    def posting_size(self, key: str) -> int:
        entry = self.index["postings"].get(key, EMPTY)
        return (len(entry) - entry.index(0) - 1) // 4 if entry else 0

    def in_postings(self, key: str) -> bool:
        return key in self.index["postings"]

    def has_word(self, key: str) -> bool:
        return key in self.index["postings"] or key in self.index.get("term_postings", {})

    def term_postings(self, key: str) -> array[int]:
        return unpack(self.index.get("term_postings", {}).get(key, EMPTY))

    def stem_postings(self, stem: str) -> array[int]:
        return unpack(self.index.get("stem_postings", {}).get(stem, EMPTY))

    def by_tag(self, tag: str) -> array[int]:
        return unpack(self.index["by_tag"].get(tag, EMPTY))

    @property
    def vocab(self) -> list[str]:
        if self._vocab is None:
            self._vocab = self.index["vocab"].split("\n")
        return self._vocab

    def vocab_from(self, key: str) -> Iterator[str]:
        import bisect

        vocab = self.vocab
        return iter(vocab[bisect.bisect_left(vocab, key) :])

    def typo_candidates(self, key: str) -> list[str]:
        return self.vocab

    def forms_for(self, key: str) -> list[list[Any]]:
        forms = self.index["forms"]
        return [forms[fi] for fi in unpack(self.index["form_keys"].get(key, EMPTY))]

    def partials_for(self, key: str) -> list[list[Any]]:
        forms = self.index["forms"]
        return [forms[fi] for fi in unpack(self.index["partials"].get(key, EMPTY))]

    def form_key_candidates(self, key: str) -> list[str]:
        return list(self.index["form_keys"])

    def forms_exact(self, norm: str, fold: str) -> list[list[Any]]:
        return [f for f in self.index["forms"] if f[4] == norm or f[2] == fold]

    def forms_near(self, spans: Sequence[str]) -> list[list[Any]]:
        return list(self.index["forms"])

    def all_forms(self) -> list[list[Any]]:
        return list(self.index["forms"])

    def concept_en(self, key: str) -> array[int]:
        return unpack(self.index.get("concept_en", {}).get(key, EMPTY))

    def concept_ru(self, bucket: str) -> dict[str, bytes]:
        value: dict[str, bytes] = self.index.get("concept_ru", {}).get(bucket, {})
        return value

    def concept_kk(self, bucket: str) -> list[list[Any]]:
        value: list[list[Any]] = self.index.get("concept_kk", {}).get(bucket, [])
        return value

    def concept_groups(self, concept: int) -> list[tuple[str, array[int]]]:
        value: list[tuple[str, array[int]]] = [(form, unpack(p)) for form, p in self.index["concept_groups"][concept]]
        return value

    def rows(self, positions: Iterable[int]) -> dict[int, Row]:
        ix, cache = self.index, self._rows
        out = {}
        for pos in positions:
            r = cache.get(pos)
            if r is None:
                r = cache[pos] = Row(
                    ix["ids"][pos],
                    ix["texts"][pos],
                    ix["term_texts"][pos],
                    ix["lengths"][pos],
                    ix["reports"][pos],
                    ix["dates"][pos],
                    ix["figures"][pos],
                    tuple(ix["people"][pos]),
                )
            out[pos] = r
        return out


def as_store(data: Any) -> Store:
    """A ``Store`` from a store, a ``FactBase`` or compiled data."""
    if isinstance(data, Store):
        return data
    store = getattr(data, "store", None)
    if isinstance(store, Store):
        return store
    return DictStore(data)


# --------------------------------------------------------------------------- SQLite

# The SQLite store's layout (see ``build.py``, which writes it). Bump with any change.
SQL_FORMAT = 6
SQLITE_MAGIC = b"SQLite format 3\x00"
PROBE = 4000  # strings counted per bigram to tell the rare ones (see ``SqliteStore._near``)
META_KEYS = {"fingerprint", "format", "version", "claims"}  # the first written is the file's last bytes


class Damaged(Exception):
    """The store's content failed a check (a checksum, SQLite's own structure)."""


def _damaged_twice(message: str) -> Exception:
    """A store damaged again after it was rebuilt within the run: the question is not
    answered from it (exit 2, one line), and the next run rebuilds it."""
    from .errors import KzrightsError

    return KzrightsError(message)


def crc(data: bytes | memoryview) -> int:
    import zlib

    return zlib.crc32(data)


def seal(payload: bytes) -> bytes:
    """A stored value: a CRC-32 of the payload, then the payload. Whatever is decoded with
    ``marshal`` (which crafted bytes can crash) or unpacked as positions is first checked."""
    return crc(payload).to_bytes(4, "little") + payload


def unseal(value: Any) -> bytes:
    if not isinstance(value, bytes) or len(value) < 4:
        raise Damaged("a value is missing its checksum")
    payload = value[4:]
    if crc(payload) != int.from_bytes(value[:4], "little"):
        raise Damaged("its checksum does not match")
    return payload


def loads(value: Any) -> Any:
    return marshal.loads(unseal(value))


def row_check(*values: Any) -> int:
    """A CRC-32 over a row's text columns, stored beside them."""
    return crc("\x1f".join("" if v is None else str(v) for v in values).encode("utf-8", "surrogatepass"))


def _guarded(method: Any) -> Any:
    """Run a store method; on damage (a failed checksum, a malformed database), have the
    store rebuilt and run it once more against the new file."""
    import functools
    import sqlite3

    @functools.wraps(method)
    def run(self: SqliteStore, *args: Any, **kw: Any) -> Any:
        try:
            return method(self, *args, **kw)
        except (sqlite3.DatabaseError, Damaged, KeyError, IndexError, ValueError, EOFError, TypeError) as exc:
            self._recover(exc)
            return method(self, *args, **kw)

    return run


class SqliteStore(Store):
    """The compiled fact base in an SQLite file, opened read-only (see ``build.py``)."""

    length_ordered = True

    def __init__(self, conn: Any, name: str, root: str, meta: dict[str, str], recover: Any = None):
        n = int(meta["claims"])
        # positions given in order of (length, id) throughout (not after an edit's patch)
        self.ties_in_order = meta.get("ordered") == "1"
        self._conn = conn
        self._name = name  # the file's name, for messages
        self.root = root
        self.n = n
        self._rebuild = recover  # () -> SqliteStore: a new store from the fact files
        self._recovered = False
        self._rows: dict[int, Row] = {}
        self._entity: dict[str, list[Any] | None] = {}
        self._name_words = Members(self._is_name_word)
        self._proper = Members(self._is_proper)

    def _recover(self, exc: BaseException) -> None:
        if self._recovered or self._rebuild is None:
            raise _damaged_twice(f"the cache file {self._name} is damaged ({_why(exc)}); run again to rebuild it") from None
        self._recovered = True
        from .cachefile import warn

        warn(f"the cache file {self._name} is damaged ({_why(exc)}); rebuilding it")
        new = self._rebuild()
        self.close()
        self._conn, self.root, self.n, self.ties_in_order = new._conn, new.root, new.n, new.ties_in_order
        self._rows.clear()
        self._entity.clear()
        self._name_words = Members(self._is_name_word)
        self._proper = Members(self._is_proper)

    def close(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self._conn.close()

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self._conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def _blob(self, sql: str, key: str) -> bytes:
        value = self._one(sql, (key,))
        return EMPTY if value is None else unseal(value)

    def _records(self, kind: str) -> list[Any]:
        return [loads(b) for (b,) in self._conn.execute("SELECT blob FROM records WHERE kind = ? ORDER BY ord", (kind,))]

    # records
    @_guarded
    def reports(self) -> list[dict[str, Any]]:
        return self._records("report")

    @_guarded
    def entities(self) -> list[list[Any]]:
        return self._records("entity")

    @_guarded
    def entity(self, tag: str) -> list[Any] | None:
        if tag not in self._entity:
            blob = self._one("SELECT blob FROM entities WHERE tag = ?", (tag,))
            self._entity[tag] = None if blob is None else loads(blob)
        return self._entity[tag]

    @_guarded
    def topics(self) -> list[list[Any]]:
        return self._records("topic")

    @_guarded
    def ratings(self) -> list[dict[str, Any]]:
        return self._records("rating")

    @_guarded
    def claim(self, pos: int) -> list[Any]:
        blob = self._one("SELECT record FROM claims WHERE pos = ?", (pos,))
        if blob is None:
            raise Damaged(f"no claim at {pos}")
        value: list[Any] = loads(blob)
        return value

    @_guarded
    def positions(self) -> list[int]:
        return [p for (p,) in self._conn.execute("SELECT pos FROM claims ORDER BY ord")]

    @_guarded
    def position_of(self, claim_id: str) -> int | None:
        value = self._one("SELECT pos FROM claims WHERE id = ?", (claim_id,))
        return None if value is None else int(value)

    @_guarded
    def claim_ids(self) -> list[str]:
        return [i for (i,) in self._conn.execute("SELECT id FROM claims ORDER BY ord")]

    @_guarded
    def report_positions(self, report: str) -> set[int]:
        return {p for (p,) in self._conn.execute("SELECT pos FROM claims WHERE report = ?", (report,))}

    @_guarded
    def report_counts(self) -> dict[str, int]:
        return dict(self._conn.execute("SELECT report, count(*) FROM claims GROUP BY report ORDER BY min(ord)").fetchall())

    @_guarded
    def link_ends(self) -> int:
        return sum(len(loads(blob)[CLAIM_RELATED]) for (blob,) in self._conn.execute("SELECT record FROM claims"))

    @_guarded
    def tags(self) -> list[str]:
        return [t for (t,) in self._conn.execute("SELECT tag FROM tags")]

    @_guarded
    def tag_count(self, tag: str) -> int:
        return int(self._one("SELECT n FROM tags WHERE tag = ?", (tag,)) or 0)

    # index
    @_guarded
    def posting(self, key: str) -> tuple[str, array[int]]:
        row = self._conn.execute("SELECT written, pos FROM postings WHERE key = ?", (key,)).fetchone()
        if row is None:
            return "", array("I")
        return row[0], unpack(unseal(row[1]))

    @_guarded
    def posting_size(self, key: str) -> int:
        # a sealed value: 4 bytes of check, then 4 a claim (a torn one only miscounts)
        size = self._one("SELECT length(pos) FROM postings WHERE key = ?", (key,))
        return max((size - 4) // 4, 0) if size else 0

    @_guarded
    def in_postings(self, key: str) -> bool:
        return self._one("SELECT 1 FROM postings WHERE key = ?", (key,)) is not None

    @_guarded
    def has_word(self, key: str) -> bool:
        return self._one("SELECT 1 FROM vocab WHERE w = ?", (key,)) is not None

    @_guarded
    def term_postings(self, key: str) -> array[int]:
        return unpack(self._blob("SELECT pos FROM terms WHERE key = ?", key))

    @_guarded
    def stem_postings(self, stem: str) -> array[int]:
        return unpack(self._blob("SELECT pos FROM stems WHERE key = ?", stem))

    @_guarded
    def by_tag(self, tag: str) -> array[int]:
        return unpack(self._blob("SELECT pos FROM tags WHERE tag = ?", tag))

    def vocab_from(self, key: str) -> Iterator[str]:
        # a cursor read as far as the caller goes: a prefix reads its own words only
        import sqlite3

        sql, last = "SELECT w FROM vocab WHERE w >= ? ORDER BY w", key
        for _ in range(2):
            try:
                for (w,) in self._conn.execute(sql, (last,)):
                    yield w
                    sql, last = "SELECT w FROM vocab WHERE w > ? ORDER BY w", w
                return
            except sqlite3.DatabaseError as exc:  # a malformed page: the same recovery as every call
                self._recover(exc)

    @_guarded
    def typo_candidates(self, key: str) -> list[str]:
        return self._near("vgrams", key, 80 if len(key) >= 8 else 83)

    def _near(self, table: str, key: str, cutoff: int) -> list[str]:
        """Every string of ``table`` whose ``fuzz.ratio`` with ``key`` may reach ``cutoff``: it
        shares enough distinct bigrams with ``key`` and has a length that could (see
        ``bigram_floor``), in sorted order."""
        grams = bigrams(key)
        lo, hi = length_range(len(key), cutoff)
        floor = bigram_floor(len(key), len(grams), cutoff)
        # A string sharing ``floor`` of the key's bigrams lacks at most the others: it holds
        # one of any ``len(grams) - floor + 1`` of them. Those read are the rarest (each
        # bigram's strings counted up to ``PROBE``), so common bigrams are never read.
        if table == "fgrams":  # (a row per bigram and length: its keys' numbers, packed)
            probe = f"SELECT min(coalesce(sum(c), 0), {PROBE}) FROM fgrams WHERE g = ? AND n BETWEEN ? AND ?"
        else:
            probe = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE g = ? AND n BETWEEN ? AND ? LIMIT {PROBE})"
        counted = sorted((self._one(probe, (g, lo, hi)), g) for g in grams)
        rare = [g for _, g in counted[: len(grams) - floor + 1]]
        marks = ",".join("?" * len(rare))
        if table == "fgrams":
            ids: set[int] = set()
            sql = f"SELECT ids FROM fgrams WHERE g IN ({marks}) AND n BETWEEN ? AND ?"
            for (packed,) in self._conn.execute(sql, (*rare, lo, hi)):
                ids.update(unpack(unseal(packed)))
            return self._form_keys(sorted(ids))  # (in the order of the keys' first forms)
        sql = f"SELECT w FROM {table} WHERE g IN ({marks}) AND n BETWEEN ? AND ? GROUP BY w ORDER BY w"
        return [w for (w,) in self._conn.execute(sql, (*rare, lo, hi))]

    def _form_keys(self, ids: list[int]) -> list[str]:
        """The name forms' fold keys numbered ``ids`` (ascending), in that order."""
        out: list[str] = []
        for at in range(0, len(ids), 10_000):  # (SQLite takes so many parameters at most)
            run = ids[at : at + 10_000]
            sql = f"SELECT w FROM fkeys WHERE i IN ({','.join('?' * len(run))}) ORDER BY i"
            out += [w for (w,) in self._conn.execute(sql, run)]
        return out

    @_guarded
    def forms_for(self, key: str) -> list[list[Any]]:
        sql = "SELECT tag, display, fold, via, norm FROM forms WHERE fold = ? ORDER BY ord"
        return [list(r) for r in self._conn.execute(sql, (key,))]

    def _forms_at(self, ords: Iterable[int]) -> list[list[Any]]:
        ords = list(ords)
        if not ords:
            return []
        got = {
            r[0]: list(r[1:])
            for r in self._conn.execute(
                f"SELECT ord, tag, display, fold, via, norm FROM forms WHERE ord IN ({','.join('?' * len(ords))})", ords
            )
        }
        return [got[o] for o in ords]

    @_guarded
    def partials_for(self, key: str) -> list[list[Any]]:
        return self._forms_at(unpack(self._blob("SELECT ords FROM partials WHERE key = ?", key)))

    @_guarded
    def form_key_candidates(self, key: str) -> list[str]:
        return self._near("fgrams", key, 85 if len(key) >= 8 else 90)

    @_guarded
    def forms_exact(self, norm: str, fold: str) -> list[list[Any]]:
        sql = "SELECT tag, display, fold, via, norm FROM forms WHERE norm = ? OR fold = ? ORDER BY ord"
        return [list(r) for r in self._conn.execute(sql, (norm, fold))]

    @_guarded
    def forms_near(self, spans: Sequence[str]) -> list[list[Any]]:
        return self.all_forms()

    @_guarded
    def all_forms(self) -> list[list[Any]]:
        return [list(r) for r in self._conn.execute("SELECT tag, display, fold, via, norm FROM forms ORDER BY ord")]

    def _is_name_word(self, w: str) -> bool:
        return bool(self._one("SELECT kind & 1 FROM words WHERE w = ?", (w,)))

    def _is_proper(self, w: str) -> bool:
        return bool(self._one("SELECT kind & 2 FROM words WHERE w = ?", (w,)))

    @_guarded
    def concept_en(self, key: str) -> array[int]:
        return unpack(self._blob("SELECT ids FROM concept_en WHERE key = ?", key))

    @_guarded
    def concept_ru(self, bucket: str) -> dict[str, bytes]:
        sql = "SELECT key, ids FROM concept_ru WHERE bucket = ? ORDER BY ord"
        return {k: unseal(v) for k, v in self._conn.execute(sql, (bucket,))}

    @_guarded
    def concept_kk(self, bucket: str) -> list[list[Any]]:
        sql = "SELECT run, ci FROM concept_kk WHERE bucket = ? ORDER BY ord"
        return [[run.split(" "), ci] for run, ci in self._conn.execute(sql, (bucket,))]

    @_guarded
    def concept_groups(self, concept: int) -> list[tuple[str, array[int]]]:
        sql = "SELECT form, pos FROM concept_groups WHERE ci = ? ORDER BY ord"
        return [(form, unpack(unseal(p))) for form, p in self._conn.execute(sql, (concept,))]

    @_guarded
    def rows(self, positions: Iterable[int]) -> dict[int, Row]:
        cache = self._rows
        out: dict[int, Row] = {}
        wanted = []
        for pos in positions:
            r = cache.get(pos)
            if r is None:
                wanted.append(pos)
            else:
                out[pos] = r
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            sql = (
                "SELECT pos, id, text, term_text, length, report, date, figure, people, chk FROM claims "
                f"WHERE pos IN ({','.join('?' * len(chunk))})"
            )
            for pos, cid, text, term_text, length, report, date, figure, people, chk in self._conn.execute(sql, chunk):
                if row_check(cid, text, term_text, length, report, date, figure, people) != chk:
                    raise Damaged("its checksum does not match")
                r = cache[pos] = Row(cid, text, term_text, length, report, date, bool(figure), tuple(people.split()))
                out[pos] = r
        if any(p not in out for p in wanted):
            raise Damaged("a claim the index names is missing")
        return out


def digest(text: str | None) -> str:
    """A short digest of the fingerprint (every fact file's path and stamp), stored in the
    store's meta rows: a small row keeps the meta table in the file's last page."""
    if text is None:
        return ""
    from _blake2 import blake2b  # hashlib's own backend, without importing OpenSSL

    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _why(exc: BaseException) -> str:
    text = str(exc)
    if "checksum" in text:
        return "its checksum does not match"
    return "unreadable data" if not text else text.splitlines()[0][:80]


def bigrams(text: str) -> list[str]:
    """The distinct bigrams of `` text `` (padded: the first and last letters count too)."""
    padded = f" {text} "
    return list(dict.fromkeys(padded[i : i + 2] for i in range(len(padded) - 1)))


def length_range(n: int, cutoff: int) -> tuple[int, int]:
    """The lengths a string can have and still reach ``fuzz.ratio >= cutoff`` with one of
    length ``n`` (ratio = 200 * LCS / (n + m), and LCS <= min(n, m))."""
    lengths = [m for m in range(1, 2 * n + 2) if 200 * min(n, m) >= cutoff * (n + m)]
    return (min(lengths), max(lengths)) if lengths else (n, n)


def bigram_floor(n: int, distinct: int, cutoff: int) -> int:
    """How many distinct padded bigrams a string must share with a string of length ``n``
    (``distinct`` distinct bigrams) to reach ``fuzz.ratio >= cutoff``. A deletion breaks at
    most two of the ``n + 1`` bigram positions and an insertion one; the fewest that
    survive the most edits the cut-off allows, less repeats, is the floor (at least 1)."""
    floor = None
    lo, hi = length_range(n, cutoff)
    for m in range(lo, hi + 1):
        lcs = -(-cutoff * (n + m) // 200)  # the least common subsequence the cut-off allows
        deleted, inserted = max(n - lcs, 0), max(m - lcs, 0)
        survive = (n + 1) - 2 * deleted - inserted
        floor = survive if floor is None else min(floor, survive)
    return max((floor or 1) - ((n + 1) - distinct), 1)


class Stale(NamedTuple):
    """A store that is sound but not for these fact files (another version, an edit): its
    connection stays open so that the rebuild can take the fragments it kept."""

    conn: Any


def _db_path(fd: int, folder: str, name: str) -> str:
    """A path SQLite can open for the file already opened (and checked) as ``fd``."""
    own = f"/proc/self/fd/{fd}"
    if os.path.exists(own):
        return own
    path = os.path.join(folder, name)
    return "".join(f"%{ord(ch):02X}" if ch in "%?#" else ch for ch in path)


def open_sqlite(dir_fd: int, folder: str, name: str, warn: Any, max_size: int) -> tuple[Any, dict[str, str]] | None:
    """See ``_open_sqlite``. A file that SQLite cannot open at first (another process renaming
    a freshly built store into place at that moment) is tried once more before it is called
    damaged."""
    transient: list[str] = []
    opened = _open_sqlite(dir_fd, folder, name, transient.append, max_size)
    if opened is None and transient and all("unable to open" in m for m in transient):
        return _open_sqlite(dir_fd, folder, name, warn, max_size)
    for message in transient:
        warn(message)
    return opened


def _open_sqlite(dir_fd: int, folder: str, name: str, warn: Any, max_size: int) -> tuple[Any, dict[str, str]] | None:
    """The SQLite file ``name`` in the checked cache folder, opened read-only, and its meta
    rows; None when missing or not to be trusted (the latter with a warning).

    Only a regular file this user owns, of bounded size, whose header is SQLite's, whose
    size is the one its header gives (a file cut short is not read), and whose meta rows
    carry their checksums, is opened. It is opened ``immutable``: a rebuild writes a new
    file and renames it over this one, never writing into a file a reader may have open.
    """
    import sqlite3

    from .cachefile import open_cache_file

    opened = open_cache_file(dir_fd, name, max_size, warn)
    if opened is None:
        return None
    fd, st = opened
    try:
        head = os.pread(fd, 100, 0)
        if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
            warn(f"the cache file {name} is damaged (not a kzrights cache); rebuilding it")
            return None
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        if page * int.from_bytes(head[28:32], "big") != st.st_size:
            warn(f"the cache file {name} is damaged (cut short); rebuilding it")
            return None
        try:
            conn = sqlite3.connect(f"file:{_db_path(fd, folder, name)}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            # as bytes: a damaged value is a checksum that does not match, not a decoding error
            rows = conn.execute("SELECT CAST(key AS BLOB), CAST(value AS BLOB), chk FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            warn(f"the cache file {name} is damaged ({_why(exc)}); rebuilding it")
            return None
        meta = {}
        for raw_key, raw_value, chk in rows:
            key, value = (bytes(v).decode("utf-8", "surrogateescape") for v in (raw_key, raw_value))
            if row_check(key, value) != chk:
                break
            meta[key] = value
        else:
            if meta.keys() >= META_KEYS:
                return conn, meta
        conn.close()
        warn(f"the cache file {name} is damaged (its checksum does not match); rebuilding it")
        return None
    except OSError as exc:
        warn(f"the cache file {name} cannot be read ({exc.strerror}); rebuilding it")
        return None
    finally:
        os.close(fd)
