"""Finding, reading, checking and caching the fact base.

Answering a query never parses YAML: the first run after an edit reads and checks every
file, compiles the fact base and its search index to plain data, and stores that with
``marshal`` in the user cache dir, keyed by every fact file's path, size and mtime. Later
runs load the cache in milliseconds. A stale or corrupt cache is rebuilt; a cache is
written to a temporary file and renamed, so concurrent runs never see half of one.
"""

from __future__ import annotations

import marshal
import os
import re
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import __version__
from .errors import FactBaseError
from .model import Problem
from .text import normalize_text

ENV_FACTS = "KZRIGHTS_FACTS"
ENV_CACHE = "KZRIGHTS_CACHE_DIR"
CACHE_FORMAT = 26  # bump when the compiled layout changes

SINGLE_FILES = (
    "sources.yaml",
    "people.yaml",
    "organizations.yaml",
    "places.yaml",
    "topics.yaml",
    "ratings.yaml",
    "vocabulary.yaml",
    "passages.yaml",
)
REQUIRED_FILES = ("sources.yaml",)
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


# --------------------------------------------------------------------------- locating


def packaged_facts_dir() -> Path:
    """The fact base that ships with kzrights: inside the installed package, or beside it
    in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "facts", here.parent / "facts"):
        if (candidate / "sources.yaml").is_file():
            return candidate
    return here / "facts"


def find_facts_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--facts`` first, then ``$KZRIGHTS_FACTS``, then the packaged fact base."""
    chosen = explicit if explicit else os.environ.get(ENV_FACTS) or None
    path = Path(chosen).expanduser() if chosen else packaged_facts_dir()
    if not path.exists():
        raise FactBaseError([Problem(str(path), 0, "fact base directory not found")])
    if not path.is_dir():
        raise FactBaseError([Problem(str(path), 0, "is not a directory")])
    return path


def fact_files(root: Path) -> list[Path]:
    """Every file the fact base is made of, in a stable order. Names starting with ``_``
    (curators' scratch files) are skipped."""
    files = [root / name for name in SINGLE_FILES if (root / name).is_file()]
    claims_dir = root / "claims"
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(claims_dir):  # os.walk: a third of rglob's cost
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("_"))
        found += [os.path.join(dirpath, f) for f in filenames if f.endswith((".yaml", ".yml")) and not f.startswith("_")]
    return files + [Path(f) for f in sorted(found)]


def schema_dir(root: Path) -> Path:
    own = root / "schema"
    return own if (own / "claims.schema.json").is_file() else packaged_facts_dir() / "schema"


# --------------------------------------------------------------------------- caching


def _schema_stamp(root: Path) -> str:
    """The schemas the files were checked against: a new schema means checking again."""
    d = schema_dir(root)
    stamps = []
    for name in sorted(n for n in os.listdir(d) if n.endswith(".schema.json")):
        st = os.stat(d / name)
        stamps.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(stamps)


def _fingerprint(root: Path, files: Iterable[Path]) -> str:
    """Every fact file's path, size and mtime, as one string stored in the cache."""
    parts = [f"{__version__}:{CACHE_FORMAT}:{os.path.realpath(root)}", _schema_stamp(root)]
    for f in files:
        st = os.stat(f)
        parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def cache_dir() -> Path | None:
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kzrights"


def _cache_path(root: Path) -> Path | None:
    d = cache_dir()
    if d is None:
        return None
    key = zlib.crc32(str(root.resolve()).encode())
    return d / f"factbase-{key:08x}.marshal"


def _read_cache(path: Path | None, fingerprint: str) -> dict[str, Any] | None:
    if path is None:
        return None
    import gc

    # Loading makes many small containers; with the collector on, it would scan every object
    # the imports made, several times over (about 30 ms). Nothing here makes cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # loads(bytes), not load(file): load reads the file in small pieces, 5x slower.
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    finally:
        if was_enabled:
            gc.enable()
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint:
        return None
    return data


def _write_cache(path: Path | None, data: dict[str, Any]) -> None:
    if path is None:
        return
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".factbase-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(data, fh)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # no cache is slower, never wrong


def load_compiled(explicit: str | os.PathLike[str] | None = None, use_cache: bool = True) -> dict[str, Any]:
    """The compiled fact base as plain data (see ``compile_fact_base``)."""
    root = find_facts_dir(explicit)
    files = fact_files(root)
    if not files:
        raise FactBaseError([Problem(str(root), 0, "no fact files here (expected sources.yaml and claims/)")])
    try:
        fingerprint = _fingerprint(root, files)
    except OSError as exc:
        raise FactBaseError([Problem(str(exc.filename or root), 0, f"cannot read: {exc.strerror}")]) from None
    path = _cache_path(root) if use_cache else None
    data = _read_cache(path, fingerprint)
    if data is None:
        # Rebuild. Files unchanged since the last good read come from the per-file cache,
        # already parsed and checked; only the edited ones are parsed again.
        units_path = path.with_name(path.name.replace("factbase-", "files-")) if path else None
        units_key = f"{__version__}:{CACHE_FORMAT}:{_schema_stamp(root)}"
        units = _read_cache(units_path, units_key) if units_path else None
        raw = read_fact_base(root, files, (units or {}).get("files", {}))
        _write_cache(units_path, {"fingerprint": units_key, "files": raw.pop("units")})
        data = compile_fact_base(raw)
        data["fingerprint"] = fingerprint
        data["root"] = str(root)
        _write_cache(path, data)
    return data


# --------------------------------------------------------------------------- reading YAML


_LOADER: Any = None


def _yaml_loader() -> Any:
    """libyaml's safe loader when present, noting duplicate keys as it builds each mapping
    (PyYAML would silently keep the last value)."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Loader(base):  # type: ignore[misc, valid-type]
            def __init__(self, stream: Any) -> None:
                super().__init__(stream)
                self.duplicates: list[tuple[int, str]] = []

            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    key = key_node.value
                    if key in seen:
                        self.duplicates.append(
                            (key_node.start_mark.line + 1, f"duplicate key '{key}' (the later value would silently win)")
                        )
                    seen.add(key)
                return super().construct_mapping(node, deep)

        _LOADER = Loader
    return _LOADER


class _Doc:
    """One parsed YAML file, with the line of any value found from its node tree on demand
    (only a file with a problem needs lines)."""

    def __init__(self, file: str, data: Any, node: Any, source: Path | None = None):
        self.file = file
        self.rel = file  # the path inside the fact base, for records that cite their file
        self.data = data
        self.node = node
        self.source = source  # to parse again for lines when the data came from the cache

    def line(self, path: tuple[Any, ...]) -> int:
        import yaml

        if self.node is None and self.source is not None:
            loader = _yaml_loader()(self.source.read_text(encoding="utf-8"))
            try:
                self.node = loader.get_single_node()
            finally:
                loader.dispose()
        node = self.node
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for elem in path:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == elem:
                        line, node = key_node.start_mark.line + 1, value_node
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(elem, int) and 0 <= elem < len(node.value):
                node = node.value[elem]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def problem(self, path: tuple[Any, ...], message: str) -> Problem:
        return Problem(self.file, self.line(path), message)


def read_yaml(path: Path, display: str) -> tuple[_Doc | None, list[Problem]]:
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(display, 0, f"cannot read: {exc.strerror}")]
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [Problem(display, 1, "starts with a byte-order mark (BOM); save it as UTF-8 without BOM")]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(display, 1, "is UTF-16; save it as UTF-8")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(display, line, f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8")]
    loader = _yaml_loader()(text)
    try:
        # One parse: the node tree gives the lines, the same tree is then constructed.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = (exc.problem or "malformed YAML").strip()
        if "could not determine a constructor" in what or "tag" in what:
            what = f"{what} (tags that build objects are not allowed in fact files)"
        return None, [Problem(display, line, f"malformed YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(display, 0, f"malformed YAML: {exc}")]
    finally:
        loader.dispose()
    problems = [Problem(display, ln, msg) for ln, msg in loader.duplicates]
    if data is None:
        problems.append(Problem(display, 1, "is empty"))
        return None, problems
    return _Doc(display, data, node), problems


def _load_schemas(root: Path) -> dict[str, dict[str, Any]]:
    import json

    d = schema_dir(root)
    out = {}
    for name in ("claims", "people", "organizations", "places", "topics", "sources", "ratings", "vocabulary", "passages"):
        path = d / f"{name}.schema.json"
        if not path.is_file():  # a fact base with its own schemas from before this file existed
            path = packaged_facts_dir() / "schema" / f"{name}.schema.json"
        with open(path, encoding="utf-8") as fh:
            out[name] = json.load(fh)
    return out


def _valid_date(value: str) -> str | None:
    """None if ``value`` is a real calendar date at its precision, else why not."""
    import calendar

    m = DATE_RE.match(value)
    if not m:
        return "is not an ISO date (use 2020, 2020-06 or 2020-06-06)"
    year, month, day = m.groups()
    if month and not 1 <= int(month) <= 12:
        return f"has no month {month}"
    if day and not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return f"has no day {day} in {year}-{month}"
    return None


def read_fact_base(root: Path, files: list[Path], units: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read and check every file; raise ``FactBaseError`` listing all problems found.

    ``units`` holds files read before (path -> stamp, data, per-claim search terms); a
    file whose size and mtime still match is not parsed or schema-checked again. The
    result's ``units`` are the files that passed the per-file checks, for next time.
    """
    from .schema import check
    from .search import claim_terms

    units = units or {}
    new_units: dict[str, Any] = {}
    problems: list[Problem] = []
    schemas = _load_schemas(root)
    docs: dict[str, _Doc] = {}
    claim_docs: list[_Doc] = []

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(Path.cwd()))
        except ValueError:
            return str(p)

    unread: set[str] = set()  # kinds with a file that could not be read at all
    refused_records: set[tuple[Any, ...]] = set()  # (doc, list key, index) the schema refused
    terms: dict[int, list[Any]] = {}  # id(doc) -> per-claim search terms
    lines_of: dict[int, list[int]] = {}  # id(doc) -> each claim's line
    for f in files:
        is_claims = f.parent != root
        kind = "claims" if is_claims else f.stem
        key = f.relative_to(root).as_posix()
        st = f.stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
        unit = units.get(key)
        if unit is not None and unit[0] == stamp:
            doc: _Doc | None = _Doc(rel(f), unit[1], None, f)
            assert doc is not None
            if is_claims:
                terms[id(doc)] = unit[2]
                lines_of[id(doc)] = unit[3]
            new_units[key] = unit
        else:
            doc, probs = read_yaml(f, rel(f))
            problems += probs
            if doc is None:
                unread.add(kind)
                continue
            doc.source = f
            if not isinstance(doc.data, dict):
                problems.append(
                    doc.problem((), f"must be a mapping with the key(s) {', '.join(schemas[kind].get('required', []))}")
                )
                continue
            found = check(doc.data, schemas[kind])
            for bad_path, msg in found:
                dotted = ".".join(str(p) for p in bad_path)
                problems.append(doc.problem(bad_path, f"{dotted}: {msg}" if dotted else msg))
                refused_records.add((id(doc), *bad_path[:2]))
            if not found and not probs:
                derived = [claim_terms(c["claim"]) for c in doc.data["claims"]] if is_claims else []
                claim_lines = [doc.line(("claims", i)) for i in range(len(derived))]
                new_units[key] = [stamp, doc.data, derived, claim_lines]
                terms[id(doc)] = derived
                lines_of[id(doc)] = claim_lines
        if is_claims:
            doc.rel = f.relative_to(root).as_posix()
            claim_docs.append(doc)
        else:
            docs[kind] = doc
    for name in REQUIRED_FILES:
        if name.removesuffix(".yaml") not in docs and not any(p.file.endswith(name) for p in problems):
            problems.append(Problem(rel(root / name), 0, "missing: every fact base needs it"))

    # The checks below look across files. They skip the records the schema already
    # refused (those problems are reported above), so every problem is listed once.
    def sound(doc: _Doc, key: str, i: int) -> bool:
        return (id(doc), key, i) not in refused_records and (id(doc),) not in refused_records

    def items(kind: str, key: str) -> list[tuple[int, dict[str, Any]]]:
        doc = docs.get(kind)
        records = doc.data.get(key) if doc else None
        if not isinstance(records, list):
            return []
        assert doc is not None
        return [(i, r) for i, r in enumerate(records) if sound(doc, key, i)]

    # Ids of refused records still count as existing: a reference to them is not a second problem.
    refused: dict[str, set[str]] = {k: set() for k in ("people", "organizations", "places", "topics", "claims")}
    for kind, doc in [*docs.items(), *(("claims", d) for d in claim_docs)]:
        key = "claims" if kind == "claims" else kind
        if kind not in refused or not isinstance(doc.data.get(key), list):
            continue
        for i, r in enumerate(doc.data[key]):
            if isinstance(r, dict) and isinstance(r.get("id"), str) and not sound(doc, key, i):
                refused[kind].add(r["id"])

    # Reports
    reports: dict[str, dict[str, Any]] = {}
    for i, r in items("sources", "reports"):
        if r["id"] in reports:
            problems.append(docs["sources"].problem(("reports", i, "id"), f"duplicate report id '{r['id']}'"))
        seen_notes: set[int] = set()
        for j, n in enumerate(r.get("notes") or []):
            if n["n"] in seen_notes:
                problems.append(docs["sources"].problem(("reports", i, "notes", j), f"duplicate note {n['n']}"))
            seen_notes.add(n["n"])
        reports[r["id"]] = r

    # Entities and topics: ids unique within their kind; aliases may be shared (namesakes).
    entities: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, key in (("people", "people"), ("organizations", "organizations"), ("places", "places"), ("topics", "topics")):
        table: dict[str, dict[str, Any]] = {}
        for i, e in items(kind, key):
            if e["id"] in table:
                problems.append(
                    docs[kind].problem((key, i, "id"), f"duplicate {kind[:-1] if kind != 'people' else 'person'} id '{e['id']}'")
                )
            table[e["id"]] = e
        entities[kind] = table

    # Claims
    claims: list[dict[str, Any]] = []
    where: dict[str, tuple[_Doc, tuple[Any, ...]]] = {}
    for doc in claim_docs:
        rep, section = doc.data.get("report"), doc.data.get("section")
        if not isinstance(rep, str) or not isinstance(section, str) or not isinstance(doc.data.get("claims"), list):
            continue
        report = reports.get(rep)
        if report is None:
            problems.append(doc.problem(("report",), f"unknown report '{rep}' (known: {', '.join(sorted(reports))})"))
        elif section not in report["sections"]:
            problems.append(doc.problem(("section",), f"report '{rep}' has no section '{section}'"))
        note_numbers = {n["n"] for n in (report or {}).get("notes") or []}
        for i, c in enumerate(doc.data["claims"]):
            path: tuple[Any, ...] = ("claims", i)
            if not sound(doc, "claims", i):
                continue
            cid = c["id"]
            if cid in where:
                other, opath = where[cid]
                problems.append(
                    doc.problem((*path, "id"), f"duplicate claim id '{cid}' (also at {other.file}:{other.line(opath)})")
                )
                continue
            where[cid] = (doc, path)
            date = c.get("date")
            if date is not None:
                why = _valid_date(date)
                if why:
                    problems.append(doc.problem((*path, "date"), f"date {date!r} {why}"))
            for field, kind in (
                ("people", "people"),
                ("organizations", "organizations"),
                ("places", "places"),
                ("topics", "topics"),
            ):
                for j, ref in enumerate(c.get(field) or []):
                    if ref not in entities[kind] and ref not in refused[kind] and kind not in unread:
                        problems.append(
                            doc.problem((*path, field, j), f"unknown {field[:-1] if field != 'people' else 'person'} id '{ref}'")
                        )
            if note_numbers:
                for j, n in enumerate(c.get("notes") or []):
                    if n not in note_numbers:
                        problems.append(doc.problem((*path, "notes", j), f"report '{rep}' has no note {n}"))
            doc_terms, doc_lines = terms.get(id(doc)), lines_of.get(id(doc))
            claims.append(
                {
                    **c,
                    "report": rep,
                    "section": section,
                    "file": doc.rel,
                    "line": doc_lines[i] if doc_lines else doc.line(path),
                    "index_terms": doc_terms[i] if doc_terms else None,
                }
            )

    # Links: every related id exists; the loader adds the reverse link, so a curator writes it once.
    links: dict[str, dict[str, dict[str, Any]]] = {c["id"]: {} for c in claims}
    for c in claims:
        doc, path = where[c["id"]]
        for j, rel_ in enumerate(c.get("related") or []):
            link = {"id": rel_} if isinstance(rel_, str) else dict(rel_)
            target = link["id"]
            if target not in links:
                if target in refused["claims"] or "claims" in unread:
                    continue
                problems.append(doc.problem((*path, "related", j), f"related claim '{target}' does not exist"))
                continue
            if target == c["id"]:
                problems.append(doc.problem((*path, "related", j), "a claim cannot be related to itself"))
                continue
            link.setdefault("kind", "same-event")
            previous = links[target].get(c["id"])
            if previous and (previous["kind"], previous.get("note")) != (link["kind"], link.get("note")):
                problems.append(
                    doc.problem(
                        (*path, "related", j), f"link to '{target}' is written on both claims with different kinds or notes"
                    )
                )
            links[c["id"]][target] = link
            links[target].setdefault(c["id"], {**link, "id": c["id"]})

    vocabulary = _check_vocabulary(items("vocabulary", "concepts"), docs.get("vocabulary"), entities["topics"], problems)
    passages = _check_passages(items("passages", "passages"), docs.get("passages"), reports, problems)

    ratings = []
    for i, r in items("ratings", "ratings"):
        if r["report"] not in reports:
            problems.append(docs["ratings"].problem(("ratings", i, "report"), f"unknown report '{r['report']}'"))
        ratings.append(r)
    if problems:
        raise FactBaseError(problems)
    for c in claims:
        c["related"] = sorted(links[c["id"]].values(), key=lambda ln: ln["id"])  # a stable order
    return {
        "reports": list(reports.values()),
        "entities": entities,
        "claims": claims,
        "ratings": ratings,
        "vocabulary": vocabulary,
        "passages": passages,
        "units": new_units,
    }


def _check_passages(
    records: list[tuple[int, dict[str, Any]]], doc: _Doc | None, reports: dict[str, dict[str, Any]], problems: list[Problem]
) -> dict[str, dict[str, list[str]]]:
    """The link words of each passage: report and section known, each passage once.
    Returns report -> "section\npara" -> [start words, end words]."""
    out: dict[str, dict[str, list[str]]] = {}
    for i, p in records:
        assert doc is not None
        r = reports.get(p["report"])
        if r is None:
            problems.append(doc.problem(("passages", i, "report"), f"unknown report '{p['report']}'"))
            continue
        if p["section"] not in r["sections"]:
            problems.append(doc.problem(("passages", i, "section"), f"unknown section {p['section']!r} of {p['report']}"))
            continue
        key = f"{p['section']}\n{p['para']}"
        table = out.setdefault(p["report"], {})
        if key in table:
            problems.append(doc.problem(("passages", i), f"passage {p['section']!r} ¶{p['para']} is given twice"))
        table[key] = [p["start"], p.get("end") or ""]
    return out


def text_fragment(start: str, end: str) -> str:
    """A URL text fragment (``#:~:text=START,END``) that scrolls a browser to a passage and
    highlights it; ``-``, ``,`` and ``&`` are escaped as the syntax requires."""
    from urllib.parse import quote

    def enc(s: str) -> str:
        return quote(s, safe="").replace("-", "%2D")

    return "#:~:text=" + enc(start) + (f",{enc(end)}" if end else "")


_LATIN_TERM = re.compile(r"^[A-Za-z0-9 '’.,&/()+-]+$")
_CYRILLIC_TERM = re.compile(r"^[\u0400-\u04ff0-9 '’.,()-]+$")


def _check_vocabulary(
    concepts: list[tuple[int, dict[str, Any]]], doc: _Doc | None, topics: dict[str, Any], problems: list[Problem]
) -> list[dict[str, Any]]:
    """The search vocabulary: concept ids unique, topics known, each language's terms in its
    script, no term given twice in one concept."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, c in concepts:
        assert doc is not None
        if c["id"] in seen:
            problems.append(doc.problem(("concepts", i, "id"), f"duplicate concept id '{c['id']}'"))
        seen.add(c["id"])
        for j, t in enumerate(c.get("topics") or []):
            if t not in topics:
                problems.append(doc.problem(("concepts", i, "topics", j), f"unknown topic id '{t}'"))
        for lang, pattern, script in (
            ("en", _LATIN_TERM, "Latin"),
            ("ru", _CYRILLIC_TERM, "Cyrillic"),
            ("kk", _CYRILLIC_TERM, "Cyrillic"),
        ):
            folded: dict[str, int] = {}
            for j, term in enumerate(c.get(lang) or []):
                if not pattern.match(term):
                    problems.append(doc.problem(("concepts", i, lang, j), f"{lang} term {term!r} is not in {script} script"))
                key = normalize_text(term)
                if key in folded:
                    problems.append(doc.problem(("concepts", i, lang, j), f"{lang} term {term!r} repeats term {folded[key] + 1}"))
                folded.setdefault(key, j)
        out.append(c)
    return out


# --------------------------------------------------------------------------- compiling


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values or []]


def compile_fact_base(raw: dict[str, Any]) -> dict[str, Any]:
    """Plain, marshal-able data: records in fixed shapes plus the search index."""
    from .search import build_index

    reports = [
        {
            "id": r["id"],
            "short": r["short"],
            "title": r["title"],
            "publisher": r.get("publisher", ""),
            "author": r.get("author", ""),
            "published": r.get("published"),
            "covers": r.get("covers"),
            "url": r.get("url"),
            "note_style": r.get("note_style", "endnote"),
            "sections": _strs(r["sections"]),
            # the link to each passage, ready to append to the report's URL: no URL quoting per query
            "passages": {k: text_fragment(*v) for k, v in raw.get("passages", {}).get(r["id"], {}).items()},
            "notes": [[n["n"], n["text"], _strs(n.get("urls"))] for n in r.get("notes") or []],
        }
        for r in raw["reports"]
    ]
    entities = []
    for kind, singular in (("people", "person"), ("organizations", "organization"), ("places", "place")):
        for e in raw["entities"][kind].values():
            entities.append(
                [singular, e["id"], e["name"], _strs(e.get("aliases")), e.get("description"), e.get("role"), e.get("kind")]
            )
    topics = [
        [t["id"], t["label"], _strs(t.get("aliases")), t.get("description"), _strs(t.get("ru")), _strs(t.get("kk"))]
        for t in raw["entities"]["topics"].values()
    ]
    report_of = {c["id"]: c["report"] for c in raw["claims"]}
    claims = [
        [
            c["id"],
            c["claim"],
            c["report"],
            c["section"],
            c["para"],
            list(c.get("notes") or []),
            c.get("date"),
            _strs(c.get("people")),
            _strs(c.get("organizations")),
            _strs(c.get("places")),
            _strs(c.get("topics")),
            c.get("note"),
            [[ln["id"], ln["kind"], ln.get("note"), report_of[ln["id"]]] for ln in c["related"]],
            c["file"],
            c["line"],
            _strs(c.get("terms")),
        ]
        for c in raw["claims"]
    ]
    ratings = [
        {
            "report": r["report"],
            "section": r["source"]["section"],
            "para": r["source"]["para"],
            "status": r.get("status"),
            "scale_min": (r.get("scale") or {}).get("min", 1),
            "scale_max": (r.get("scale") or {}).get("max", 7),
            "democracy_score": r["democracy_score"],
            "democracy_percentage": r.get("democracy_percentage"),
            "previous": dict(r.get("previous") or {}),
            "categories": [[c["name"], c["score"], c["source"]["section"], c["source"]["para"]] for c in r["categories"]],
        }
        for r in raw["ratings"]
    ]
    data: dict[str, Any] = {
        "reports": reports,
        "entities": entities,
        "topics": topics,
        # each claim marshalled on its own: a query decodes only the claims it shows
        "claims": [marshal.dumps(c) for c in claims],
        "ratings": ratings,
        "index": build_index(claims, entities, topics, [c["index_terms"] for c in raw["claims"]], raw.get("vocabulary", [])),
    }
    return data
