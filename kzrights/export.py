"""Exports for other tools: a SQLite database (with full-text search, ready for Datasette)
and one CSV file per table. Both hold the same tables."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .factbase import FactBase

# table -> columns (the first is the primary key where there is one)
TABLES: dict[str, tuple[str, ...]] = {
    "sources": ("id", "short", "title", "publisher", "author", "published", "covers", "url", "note_style"),
    "notes": ("report", "n", "text", "urls"),
    "claims": ("id", "claim", "date", "report", "section", "para", "notes", "note", "citation", "urls"),
    "people": ("id", "name", "aliases", "role", "description"),
    "organizations": ("id", "name", "kind", "aliases", "description"),
    "places": ("id", "name", "aliases", "description"),
    "topics": ("id", "label", "aliases", "description"),
    "claim_people": ("claim_id", "person_id"),
    "claim_organizations": ("claim_id", "organization_id"),
    "claim_places": ("claim_id", "place_id"),
    "claim_topics": ("claim_id", "topic_id"),
    "links": ("claim_id", "related_id", "kind", "note"),
    "ratings": ("report", "name", "score", "scale_min", "scale_max", "section", "para"),
}
PRIMARY = {"sources": "id", "claims": "id", "people": "id", "organizations": "id", "places": "id", "topics": "id"}
FOREIGN = {
    "notes": [("report", "sources")],
    "claims": [("report", "sources")],
    "claim_people": [("claim_id", "claims"), ("person_id", "people")],
    "claim_organizations": [("claim_id", "claims"), ("organization_id", "organizations")],
    "claim_places": [("claim_id", "claims"), ("place_id", "places")],
    "claim_topics": [("claim_id", "claims"), ("topic_id", "topics")],
    "links": [("claim_id", "claims"), ("related_id", "claims")],
    "ratings": [("report", "sources")],
}
INTEGER = {("notes", "n"), ("claims", "para")}
REAL = {("ratings", "score"), ("ratings", "scale_min"), ("ratings", "scale_max")}


def rows(fb: FactBase) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every row of every table, as (table, values in TABLES order), texts as they are."""
    for r in fb.reports.values():
        yield "sources", (r.id, r.short, r.title, r.publisher, r.author, r.published, r.covers, r.url, r.note_style)
        for n in r.notes.values():
            yield "notes", (r.id, n.n, n.text, " ".join(n.urls))
    for c in fb.all_claims():
        urls = " ".join(u for n in fb.notes_of(c) for u in n.urls)
        notes = " ".join(map(str, c.notes))
        yield "claims", (c.id, c.claim, c.date, c.report, c.section, c.para, notes, c.note, fb.citation(c), urls)
        for table, refs in (
            ("claim_people", c.people),
            ("claim_organizations", c.organizations),
            ("claim_places", c.places),
            ("claim_topics", c.topics),
        ):
            for ref in refs:
                yield table, (c.id, ref)
        for ln in c.related:
            yield "links", (c.id, ln.id, ln.kind, ln.note)
    for e in fb.entities.values():
        aliases = "; ".join(e.aliases)
        if e.kind == "person":
            yield "people", (e.id, e.name, aliases, e.role, e.description)
        elif e.kind == "organization":
            yield "organizations", (e.id, e.name, e.category, aliases, e.description)
        else:
            yield "places", (e.id, e.name, aliases, e.description)
    for t in fb.topics.values():
        yield "topics", (t.id, t.label, "; ".join(t.aliases), t.description)
    for rating in fb.ratings:
        yield (
            "ratings",
            (
                rating.report,
                "Democracy Score",
                rating.democracy_score,
                rating.scale_min,
                rating.scale_max,
                rating.section,
                rating.para,
            ),
        )
        if rating.democracy_percentage is not None:
            yield (
                "ratings",
                (rating.report, "Democracy Percentage", rating.democracy_percentage, 0, 100, rating.section, rating.para),
            )
        for cat in rating.categories:
            yield "ratings", (rating.report, cat.name, cat.score, rating.scale_min, rating.scale_max, cat.section, cat.para)


def _cleaned(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Texts through ``safe.clean``: a CSV file or a database has no escape that keeps an
    escape sequence from a terminal or a bidi override from a browser (JSON has one, and
    keeps the data exact)."""
    from .safe import clean

    return tuple(clean(v) if isinstance(v, str) else v for v in values)


def _ddl(table: str) -> str:
    cols = []
    for col in TABLES[table]:
        kind = "INTEGER" if (table, col) in INTEGER else "REAL" if (table, col) in REAL else "TEXT"
        cols.append(f"{col} {kind}" + (" PRIMARY KEY" if PRIMARY.get(table) == col else ""))
    cols += [f"FOREIGN KEY ({col}) REFERENCES {other}(id)" for col, other in FOREIGN.get(table, [])]
    return f"CREATE TABLE {table} ({', '.join(cols)})"


def to_sqlite(fb: FactBase, path: Path) -> dict[str, int]:
    """Write the database, replacing ``path`` atomically (see ``safe_write``: a link, a device
    or a folder there is refused); returns the row count per table."""
    import sqlite3

    from .safe_write import build_file

    counts = dict.fromkeys(TABLES, 0)

    def build(tmp: str) -> None:
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode=OFF")  # a fresh file: on failure it is thrown away whole
            with con:
                for table in TABLES:
                    con.execute(_ddl(table))
                for table, values in rows(fb):
                    con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values))})", _cleaned(values))
                    counts[table] += 1
                for table, pairs in FOREIGN.items():
                    for col, _ in pairs:
                        con.execute(f"CREATE INDEX idx_{table}_{col} ON {table}({col})")
                # Full-text search over claims, notes and citations (Datasette finds it by itself).
                con.execute(
                    "CREATE VIRTUAL TABLE claims_fts USING fts5(claim, note, citation, content='claims', content_rowid='rowid')"
                )
                con.execute(
                    "INSERT INTO claims_fts (rowid, claim, note, citation) SELECT rowid, claim, note, citation FROM claims"
                )
        finally:
            con.close()

    build_file(path, build)
    return counts


def datasette_metadata(fb: FactBase, db_name: str) -> dict[str, Any]:
    """Titles, descriptions and source notes for `datasette DB --metadata FILE`."""
    sources = "; ".join(f"{r.author}, {r.title} ({r.publisher}, {r.published})" for r in fb.reports.values())
    describe = {
        "claims": "One fact each, in the curators' words, with its locator: report, section, paragraph, note numbers.",
        "sources": "The reports the claims cite.",
        "notes": "The reports' own notes (FPC endnotes) with their URLs.",
        "people": "People named in the reports, with every spelling used.",
        "organizations": "Parties, movements, NGOs, state bodies, courts, media and companies.",
        "places": "Places named in the claims.",
        "topics": "The topic vocabulary.",
        "links": "Claims of two reports about the same event: corroborates, complements or differs.",
        "ratings": "Nations in Transit ratings (1-7 scale; Democracy Percentage 0-100).",
    }
    return {
        "title": "kzrights: what two 2021 reports on Kazakhstan say",
        "description": "Claims curated from the reports, each with an exact citation. Sources: " + sources,
        "source": sources,
        "databases": {
            db_name: {
                "tables": {
                    name: {"description": text, **({"fts_table": "claims_fts", "fts_pk": "rowid"} if name == "claims" else {})}
                    for name, text in describe.items()
                }
            }
        },
    }


def to_csv_folder(fb: FactBase, folder: Path) -> tuple[dict[str, int], bool]:
    """One CSV file per table, with a header row, built in a temporary folder beside
    ``folder`` and moved into place whole; a folder holding a previous export is replaced,
    anything else there is refused. Returns the row count per table and whether a previous
    export was replaced."""
    import io

    from .safe_write import replace_folder

    by_table: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    for table, values in rows(fb):
        by_table[table].append(_cleaned(values))

    def writer(table: str) -> Any:
        def write(fh: Any) -> None:
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            w = csv.writer(text)
            w.writerow(TABLES[table])
            for values in by_table[table]:
                w.writerow(["" if v is None else v for v in values])
            text.flush()
            text.detach()  # the caller closes the file

        return write

    replaced = replace_folder(folder, [(f"{t}.csv", writer(t)) for t in TABLES], {f"{t}.csv" for t in TABLES})
    return {t: len(v) for t, v in by_table.items()}, replaced


def write_metadata(fb: FactBase, db: Path, meta: Path) -> None:
    """The Datasette metadata for database ``db``, at the path the user named (``--metadata``)."""
    from .safe_write import write_file

    text = json.dumps(datasette_metadata(fb, db.stem), ensure_ascii=False, indent=2) + "\n"
    write_file(meta, text.encode("utf-8"))


def check_targets(fmt: str, output: str, metadata: str | None, report: str | None) -> None:
    """Before a table export: it writes only the paths named (``--output``, ``--metadata``),
    and never through a link or over a device; ``UsageError`` otherwise."""
    import os

    from .errors import UsageError
    from .safe_write import check_target

    if report:
        raise UsageError("--report does not apply to table exports: they hold the whole fact base")
    if not output:
        raise UsageError("--output: an empty path names nothing; give a file or folder name")
    if fmt == "sqlite":
        check_target(Path(output))
        if metadata is not None:
            check_target(metadata)
            if os.path.abspath(metadata) == os.path.abspath(output):
                raise UsageError("--metadata must name another file than --output")
        if not Path(output).parent.is_dir():
            raise UsageError(f"--output: no such directory: {Path(output).parent}")


def export_tables(fb: FactBase, fmt: str, output: str, metadata: str | None) -> str:
    """The whole fact base as tables, a SQLite database (``fmt`` sqlite, with Datasette's
    metadata when ``metadata`` names a file) or a folder of CSV files; what was written, for
    a message. ``UsageError`` when it cannot be written."""
    import sqlite3

    from .errors import UsageError

    try:
        if fmt == "sqlite":
            counts = to_sqlite(fb, Path(output))
            if metadata is not None:
                write_metadata(fb, Path(output), Path(metadata))
            also = f" and {metadata}" if metadata is not None else ""
            return f"wrote {output} ({counts['claims']} claims, {sum(counts.values())} rows in {len(counts)} tables){also}"
        counts, replaced = to_csv_folder(fb, Path(output))
        again = ", replacing the previous export there" if replaced else ""
        return f"wrote {len(counts)} CSV files to {output} ({counts['claims']} claims){again}"
    except (OSError, sqlite3.Error, OverflowError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot write {output}: {why}") from None
