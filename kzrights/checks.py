"""The checks that look across fact files, one function each.

``load.read_fact_base`` reads every file and checks each against its JSON Schema; what it
read comes here (``check_fact_base``) to be checked as a whole: required files present, ids
unique, every reference known, links consistent, the vocabulary, the passage locators and
the ratings sound. Each check appends ``Problem``s located by file and line, and skips the
records the schema already refused, so every problem is listed once. Only a rebuild of the
cache imports this module; a query never does.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .dates import date_problem
from .errors import FactBaseError
from .model import Problem
from .text import normalize_text


class Doc(Protocol):
    """A parsed fact file as ``load`` reads it: its data, and problems located in it."""

    file: str  # the path messages show
    rel: str  # the path inside the fact base
    data: Any

    def line(self, path: tuple[Any, ...]) -> int: ...

    def problem(self, path: tuple[Any, ...], message: str) -> Problem: ...


REQUIRED_FILES = ("sources.yaml",)
# (file kind, also the claim field that names its ids; the word for one in a message)
ENTITY_FILES = (("people", "person"), ("organizations", "organization"), ("places", "place"), ("topics", "topic"))
_LATIN_TERM = re.compile(r"[A-Za-z0-9 '’.,&/()+-]+\Z")
_CYRILLIC_TERM = re.compile(r"[\u0400-\u04ff0-9 '’.,()-]+\Z")
_SCRIPTS = (("en", _LATIN_TERM, "Latin"), ("ru", _CYRILLIC_TERM, "Cyrillic"), ("kk", _CYRILLIC_TERM, "Cyrillic"))


Where = tuple[Doc, tuple[Any, ...]]  # a record's file and its path in it


class FactFile(NamedTuple):
    """One fact file as read: its parsed document and what the schema refused in it."""

    doc: Doc
    # (list key, index) of each record the schema refused; () when it refused the whole file
    refused: frozenset[tuple[Any, ...]] = frozenset()
    terms: list[Any] | None = None  # a claim file's per-claim search terms, computed on reading
    lines: list[int] | None = None  # a claim file's line of each claim

    def sound(self, key: str, i: int) -> bool:
        return (key, i) not in self.refused and () not in self.refused


class Read(NamedTuple):
    """Everything ``read_fact_base`` read, and the problems found so far (the checks add theirs)."""

    root: Path
    files: dict[str, FactFile]  # the single files (sources, people, ...) by kind
    claim_files: list[FactFile]
    unread: set[str]  # kinds with a file that could not be read at all: no problem per reference to it
    problems: list[Problem]

    def items(self, kind: str, key: str) -> list[tuple[int, dict[str, Any]]]:
        """The records of a single file's list ``key`` that the schema accepted, with their index."""
        f = self.files.get(kind)
        records = f.doc.data.get(key) if f else None
        if f is None or not isinstance(records, list):
            return []
        return [(i, r) for i, r in enumerate(records) if f.sound(key, i)]


def shown_path(p: Path) -> str:
    """A path as messages show it: relative to the working folder where it is inside it."""
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def check_fact_base(read: Read) -> dict[str, Any]:
    """Every cross-file check in turn; ``FactBaseError`` listing every problem found (those of
    reading included), else the checked records: reports, entities, claims with their links
    both ways, ratings, vocabulary and passages."""
    check_required_files(read)
    check_entity_files(read)
    refused = refused_ids(read)
    reports = check_reports(read)
    entities = check_entity_ids(read)
    claims, where = check_claims(read, reports, entities, refused)
    links = check_links(read, claims, where, refused)
    topics_known = None if "topics" in read.unread else entities["topics"]
    vocabulary = check_vocabulary(read, topics_known)
    passages = check_passages(read, reports)
    ratings = check_ratings(read, reports)
    if read.problems:
        raise FactBaseError(read.problems)
    for c in claims:
        c["related"] = sorted(links[c["id"]].values(), key=lambda ln: ln["id"])  # a stable order
    return {
        "reports": list(reports.values()),
        "entities": entities,
        "claims": claims,
        "ratings": ratings,
        "vocabulary": vocabulary,
        "passages": passages,
    }


def check_required_files(read: Read) -> None:
    """The files every fact base needs (``sources.yaml``), named once when missing."""
    for name in REQUIRED_FILES:
        if name.removesuffix(".yaml") not in read.files and not any(p.file.endswith(name) for p in read.problems):
            read.problems.append(Problem(shown_path(read.root / name), 0, "missing: every fact base needs it"))
    if "sources" not in read.files:
        read.unread.add("sources")  # reported above: no "unknown report" for every claim file


def check_entity_files(read: Read) -> None:
    """A missing entity file is one problem, not one per claim that names an id from it."""
    for kind, what in ENTITY_FILES:
        if kind in read.files or kind in read.unread:
            continue
        named = {
            ref
            for f in read.claim_files
            for c in (f.doc.data.get("claims") if isinstance(f.doc.data.get("claims"), list) else [])
            if isinstance(c, dict) and isinstance(c.get(kind), list)
            for ref in c[kind]
            if isinstance(ref, str)
        }
        if named:
            example = sorted(named)[0]
            what = what.replace("organization", "organisation")
            message = f"missing, yet claims name {len(named)} {what} id(s) from it (e.g. '{example}')"
            read.problems.append(Problem(shown_path(read.root / f"{kind}.yaml"), 0, message))
            read.unread.add(kind)


def refused_ids(read: Read) -> dict[str, set[str]]:
    """Ids of the records the schema refused: they still count as existing, so a reference to
    one is not a second problem."""
    refused: dict[str, set[str]] = {k: set() for k in ("people", "organizations", "places", "topics", "claims")}
    for kind, f in [*read.files.items(), *(("claims", f) for f in read.claim_files)]:
        records = f.doc.data.get(kind)
        if kind not in refused or not isinstance(records, list):
            continue
        for i, r in enumerate(records):
            if isinstance(r, dict) and isinstance(r.get("id"), str) and not f.sound(kind, i):
                refused[kind].add(r["id"])
    return refused


def check_reports(read: Read) -> dict[str, dict[str, Any]]:
    """Report ids unique, and each report's note numbers."""
    reports: dict[str, dict[str, Any]] = {}
    for i, r in read.items("sources", "reports"):
        doc = read.files["sources"].doc
        if r["id"] in reports:
            read.problems.append(doc.problem(("reports", i, "id"), f"duplicate report id '{r['id']}'"))
        seen_notes: set[int] = set()
        for j, n in enumerate(r.get("notes") or []):
            if n["n"] in seen_notes:
                read.problems.append(doc.problem(("reports", i, "notes", j), f"duplicate note {n['n']}"))
            seen_notes.add(n["n"])
        reports[r["id"]] = r
    return reports


def check_entity_ids(read: Read) -> dict[str, dict[str, dict[str, Any]]]:
    """Entity and topic ids unique within their kind; aliases may be shared (namesakes)."""
    entities: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, what in ENTITY_FILES:
        table: dict[str, dict[str, Any]] = {}
        for i, e in read.items(kind, kind):
            if e["id"] in table:
                read.problems.append(read.files[kind].doc.problem((kind, i, "id"), f"duplicate {what} id '{e['id']}'"))
            table[e["id"]] = e
        entities[kind] = table
    return entities


def check_claims(
    read: Read, reports: dict[str, dict[str, Any]], entities: dict[str, dict[str, dict[str, Any]]], refused: dict[str, set[str]]
) -> tuple[list[dict[str, Any]], dict[str, Where]]:
    """Each claim file's report and section known; each claim checked (``check_claim``).
    Returns the claims with their report, section, file and line, and where each was given."""
    claims: list[dict[str, Any]] = []
    seen: dict[str, Where] = {}  # claim id -> where it was first given
    for f in read.claim_files:
        doc = f.doc
        rep, section = doc.data.get("report"), doc.data.get("section")
        if not isinstance(rep, str) or not isinstance(section, str) or not isinstance(doc.data.get("claims"), list):
            continue
        report = reports.get(rep)
        if report is None and "sources" not in read.unread:
            read.problems.append(doc.problem(("report",), f"unknown report '{rep}' (known: {', '.join(sorted(reports))})"))
        elif report is not None and section not in report["sections"]:
            read.problems.append(doc.problem(("section",), f"report '{rep}' has no section '{section}'"))
        notes = {n["n"] for n in (report or {}).get("notes") or []}
        for i, c in enumerate(doc.data["claims"]):
            path: tuple[Any, ...] = ("claims", i)
            if not f.sound("claims", i):
                continue
            if c["id"] in seen:
                other, opath = seen[c["id"]]
                where = f"{other.file}:{other.line(opath)}"
                read.problems.append(doc.problem((*path, "id"), f"duplicate claim id '{c['id']}' (also at {where})"))
                continue
            seen[c["id"]] = (doc, path)
            check_claim(read, doc, path, c, entities, refused, notes)
            claims.append(
                {
                    **c,
                    "report": rep,
                    "section": section,
                    "file": doc.rel,
                    "line": f.lines[i] if f.lines else doc.line(path),
                    "index_terms": f.terms[i] if f.terms else None,
                }
            )
    return claims, seen


def check_claim(
    read: Read,
    doc: Doc,
    path: tuple[Any, ...],
    c: dict[str, Any],
    entities: Mapping[str, Container[str]],
    refused: dict[str, set[str]],
    notes: set[int],
) -> None:
    """One claim: a real date, every person, organisation, place and topic it names known
    (``entities``: each kind's ids), every note number one its report has."""
    date = c.get("date")
    why = date_problem(date) if date is not None else None
    if why:
        read.problems.append(doc.problem((*path, "date"), f"date {date!r} {why}"))
    for kind, what in ENTITY_FILES:
        for j, ref in enumerate(c.get(kind) or []):
            if ref not in entities[kind] and ref not in refused[kind] and kind not in read.unread:
                read.problems.append(doc.problem((*path, kind, j), f"unknown {what} id '{ref}'"))
    if notes:
        for j, n in enumerate(c.get("notes") or []):
            if n not in notes:
                read.problems.append(doc.problem((*path, "notes", j), f"report '{doc.data.get('report')}' has no note {n}"))


def check_links(
    read: Read, claims: list[dict[str, Any]], where: dict[str, Where], refused: dict[str, set[str]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every related id exists and is another claim, and a link written on both claims agrees.
    Returns claim id -> linked id -> link, both ways: a curator writes a link once."""
    links: dict[str, dict[str, dict[str, Any]]] = {c["id"]: {} for c in claims}
    for c in claims:
        doc, path = where[c["id"]]
        for j, given in enumerate(c.get("related") or []):
            link = {"id": given} if isinstance(given, str) else dict(given)
            target = link["id"]
            at = (*path, "related", j)
            if target not in links:
                if target not in refused["claims"] and "claims" not in read.unread:
                    read.problems.append(doc.problem(at, f"related claim '{target}' does not exist"))
                continue
            if target == c["id"]:
                read.problems.append(doc.problem(at, "a claim cannot be related to itself"))
                continue
            link.setdefault("kind", "same-event")
            previous = links[target].get(c["id"])
            if previous and (previous["kind"], previous.get("note")) != (link["kind"], link.get("note")):
                message = f"link to '{target}' is written on both claims with different kinds or notes"
                read.problems.append(doc.problem(at, message))
            links[c["id"]][target] = link
            links[target].setdefault(c["id"], {**link, "id": c["id"]})
    return links


def check_vocabulary(read: Read, topics: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The search vocabulary across files: concept ids unique, topics known (``topics`` None:
    topics.yaml is missing, reported once). Its terms are checked when the file is read
    (``vocabulary_term_problems``): only an edit of it can change them."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, c in read.items("vocabulary", "concepts"):
        doc = read.files["vocabulary"].doc
        if c["id"] in seen:
            read.problems.append(doc.problem(("concepts", i, "id"), f"duplicate concept id '{c['id']}'"))
        seen.add(c["id"])
        for j, t in enumerate(c.get("topics") or []):
            if topics is not None and t not in topics:
                read.problems.append(doc.problem(("concepts", i, "topics", j), f"unknown topic id '{t}'"))
        out.append(c)
    return out


def vocabulary_term_problems(doc: Doc, refused: frozenset[tuple[Any, ...]]) -> list[Problem]:
    """A vocabulary file's terms: each language's in its script, none twice in a concept (as
    a query would read it: "принят" repeats "принять"); the concepts the schema ``refused``
    are left out."""
    problems: list[Problem] = []
    concepts = doc.data.get("concepts") if isinstance(doc.data, dict) else None
    for i, c in enumerate(concepts if isinstance(concepts, list) and () not in refused else []):
        if not isinstance(c, dict) or ("concepts", i) in refused:
            continue
        for lang, pattern, script in _SCRIPTS:
            terms = c.get(lang)
            folded: dict[str, int] = {}
            for j, term in enumerate(terms if isinstance(terms, list) else []):
                if not isinstance(term, str):
                    continue
                where = ("concepts", i, lang, j)
                if not pattern.match(term):
                    problems.append(doc.problem(where, f"{lang} term {term!r} is not in {script} script"))
                key = normalize_text(term)
                if key in folded:
                    problems.append(doc.problem(where, f"{lang} term {term!r} repeats term {folded[key] + 1}"))
                folded.setdefault(key, j)
    return problems


def check_passages(read: Read, reports: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """The link words of each passage: report and section known, each passage once. Returns
    report -> "section\\npara" -> [start words, end words]. Without sources.yaml there is
    nothing to check them against, and nothing to link."""
    out: dict[str, dict[str, list[str]]] = {}
    if "sources" in read.unread:
        return out
    for i, p in read.items("passages", "passages"):
        doc = read.files["passages"].doc
        r = reports.get(p["report"])
        if r is None:
            read.problems.append(doc.problem(("passages", i, "report"), f"unknown report '{p['report']}'"))
            continue
        if p["section"] not in r["sections"]:
            read.problems.append(doc.problem(("passages", i, "section"), f"unknown section {p['section']!r} of {p['report']}"))
            continue
        key = f"{p['section']}\n{p['para']}"
        table = out.setdefault(p["report"], {})
        if key in table:
            read.problems.append(doc.problem(("passages", i), f"passage {p['section']!r} ¶{p['para']} is given twice"))
        table[key] = [p["start"], p.get("end") or ""]
    return out


def check_ratings(read: Read, reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rating's report known and its scores on its scale (``check_rating``)."""
    ratings = []
    for i, r in read.items("ratings", "ratings"):
        doc = read.files["ratings"].doc
        if r["report"] not in reports and "sources" not in read.unread:
            read.problems.append(doc.problem(("ratings", i, "report"), f"unknown report '{r['report']}'"))
        read.problems.extend(check_rating(doc, i, r))
        ratings.append(r)
    return ratings


def check_rating(doc: Doc, i: int, r: dict[str, Any]) -> list[Problem]:
    """A rating's scale runs upwards and holds its scores (the schema has made them finite
    numbers): a bar is drawn from them."""
    scale = r.get("scale") or {}
    lo, hi = scale.get("min", 1), scale.get("max", 7)
    if not lo < hi:
        return [doc.problem(("ratings", i, "scale"), f"scale: min {lo:g} must be below max {hi:g}")]
    out = []
    scores: list[tuple[tuple[Any, ...], str, Any]] = [(("democracy_score",), "democracy_score", r["democracy_score"])]
    previous = r.get("previous") or {}
    if isinstance(previous.get("democracy_score"), (int, float)):
        scores.append((("previous", "democracy_score"), "previous.democracy_score", previous["democracy_score"]))
    scores += [(("categories", j, "score"), f"categories.{j}.score", c["score"]) for j, c in enumerate(r["categories"])]
    for path, name, value in scores:
        if not lo <= value <= hi:
            out.append(doc.problem(("ratings", i, *path), f"{name}: {value:g} is outside the scale {lo:g} to {hi:g}"))
    for path, name in (
        (("democracy_percentage",), "democracy_percentage"),
        (("previous", "democracy_percentage"), "previous.democracy_percentage"),
    ):
        value = r.get(path[0]) if len(path) == 1 else previous.get(path[1])
        if isinstance(value, (int, float)) and not 0 <= value <= 100:
            out.append(doc.problem(("ratings", i, *path), f"{name}: {value:g} is not a percentage (0 to 100)"))
    return out
