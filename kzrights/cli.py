"""The command line: parses arguments, calls the core, renders the result once.

Results go to stdout, messages to stderr. Exit codes follow grep: 0 found, 1 nothing
found, 2 usage or data error. rich is imported only to draw a table.
"""

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .errors import FactBaseError, KzrightsError, NotFoundError, UsageError
from .factbase import FactBase, Filters
from .render import Format
from .safe import clean

app = typer.Typer(
    name="kzrights",
    help="Look up what two 2021 reports on Kazakhstan say about a person or a topic, with exact citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _complete(kinds: tuple[str, ...]) -> Any:
    """Shell completion of names: the names and aliases of the given kinds that start with
    what was typed (case and accents aside), else those that start with its folded spelling."""

    def complete(incomplete: str) -> list[str]:
        from .text import fold_key, normalize_text

        try:
            fb = FactBase.load(os.environ.get("KZRIGHTS_FACTS"))
        except KzrightsError:
            return []
        forms = [f for f in fb.data["index"]["forms"] if f[0].split(":", 1)[0] in kinds and f[3] != "id"]
        typed = normalize_text(incomplete)
        names = {f[1] for f in forms if f[4].startswith(typed)}
        if not names:  # nothing as typed: try the folded spelling (Janb... finds Zhanbolat)
            folded = fold_key(incomplete)
            names = {f[1] for f in forms if f[2].startswith(folded)}
        return sorted(names)[:50]

    return complete


FactsOpt = Annotated[
    str | None,
    typer.Option(
        "--facts", envvar="KZRIGHTS_FACTS", help="Fact base directory (default: the one shipped with kzrights).", show_envvar=True
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", help="Most results to show.", min=1)]
ClaimsLimitOpt = Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Most claims to show.")]
ReportOpt = Annotated[str | None, typer.Option("--report", "-r", help="Only claims from this report id (fpc-2021, nit-2021).")]
PersonOpt = Annotated[
    str | None,
    typer.Option("--person", "-p", help="Only claims about this person (any spelling).", autocompletion=_complete(("person",))),
]
OrgOpt = Annotated[
    str | None,
    typer.Option(
        "--org",
        "-o",
        help="Only claims about this organisation (name or abbreviation).",
        autocompletion=_complete(("organization",)),
    ),
]
TopicOpt = Annotated[
    str | None,
    typer.Option("--topic", "-t", help="Only claims on this topic (label or synonym).", autocompletion=_complete(("topic",))),
]
SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="Only claims dated in or after YYYY[-MM[-DD]] (overlap: 2020 counts for --since 2020-06)."),
]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Only claims dated in or before YYYY[-MM[-DD]].")]


# --------------------------------------------------------------------------- plumbing


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"kzrights {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Look up what two 2021 reports on Kazakhstan say, with exact citations."""


def _say(line: str) -> None:
    _err(f"kzrights: {line}")


def _err(line: str) -> None:
    """One message line on stderr. Messages quote file names, YAML keys and arguments: each
    passes ``clean`` so it stays one visible line, and a huge argument quoted back is cut."""
    line = clean(line, one_line=True)
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE] + f"… ({len(line) - MAX_MESSAGE} more characters)"
    sys.stderr.write(line + "\n")


MAX_MESSAGE = 1000  # characters of one message line
MAX_NAME = 300  # characters of a name or subject: resolving one compares it with every name


def _name(value: str | None, what: str) -> str | None:
    """A name, subject or name filter, bounded: a pasted page is not a name, and resolving
    it would take seconds."""
    if value is not None and len(value) > MAX_NAME:
        raise UsageError(f"{what} is {len(value)} characters long; a name or subject has at most {MAX_NAME}")
    return value


@contextmanager
def _errors() -> Iterator[None]:
    """The one place where domain errors become stderr lines and exit codes."""
    try:
        yield
    except FactBaseError as exc:
        for line in exc.lines():
            _err(line)
        raise typer.Exit(exc.exit_code) from None
    except KzrightsError as exc:
        for line in exc.lines():
            _say(line)
        raise typer.Exit(exc.exit_code) from None


def _fmt(fmt: Format, as_json: bool) -> Format:
    return Format.json if as_json else fmt


@contextmanager
def _pipe_guard() -> Iterator[None]:
    """When the reader (head, less) goes away, stop quietly with exit 0, as grep would."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None


def _out(text: str, styled: bool = False) -> None:
    """Write output text. It passes ``clean`` (JSON too: a ``\\u009b`` in a JSON string is
    the same data), unless ``styled``: text with our own colour codes, cleaned as it was made."""
    with _pipe_guard():
        sys.stdout.write(text if styled else clean(text))


def _print(renderable: Any) -> None:
    with _pipe_guard():
        _console().print(renderable)


def _console() -> Any:
    """A rich console for stdout that never obeys text: markup and emoji codes off, and
    every text segment through ``clean`` (the renderers clean their text already, so the
    table layout is right; this is the net under them). A reader that goes away is a
    ``BrokenPipeError`` for ``_pipe_guard``, not rich's own exit with status 1."""
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def _render_buffer(self, buffer: Any) -> str:
            return super()._render_buffer(s if s.control else Segment(clean(s.text), s.style) for s in buffer)

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return SafeConsole(highlight=False, soft_wrap=False, markup=False, emoji=False)


def _terminal() -> tuple[int, bool]:
    """Width for wrapping and whether to colour: colour only on a terminal without NO_COLOR."""
    import shutil

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    return shutil.get_terminal_size((80, 24)).columns, color


def _load(facts: str | None) -> FactBase:
    return FactBase.load(facts)


def _filters(
    report: str | None, person: str | None, org: str | None, topic: str | None, since: str | None, until: str | None
) -> Filters:
    from .load import _valid_date

    for opt, value in (("--since", since), ("--until", until)):
        if value is not None:
            why = _valid_date(value)  # ASCII digits, a real month and day: 2020-02-30 is refused
            if why:
                raise UsageError(f"{opt}: not a date: {value!r} (accepted: YYYY, YYYY-MM, YYYY-MM-DD)")
    return Filters(report, _name(person, "--person"), _name(org, "--org"), _name(topic, "--topic"), since, until)


def _emit_claims(
    fb: FactBase, items: Sequence[Any], fmt: Format, query: str | None = None, title: str | None = None, cite: bool = False
) -> None:
    from .model import Hit
    from .render import claim_dict, claims_table, render_claim_rows

    if fmt is Format.table:
        if items:
            _print(claims_table(fb, items, query, title, cite=cite))
        return
    if fmt in (Format.json, Format.jsonl) and not cite and not sys.stdout.isatty():
        from .render import claim_json

        texts = [claim_json(fb, i.claim, i) if isinstance(i, Hit) else claim_json(fb, i) for i in items]
        _out(("[" + ", ".join(texts) + "]\n") if fmt is Format.json else "".join(t + "\n" for t in texts))
        return
    rows = [claim_dict(fb, i.claim, i) if isinstance(i, Hit) else claim_dict(fb, i) for i in items]
    if cite:
        from .cite import cite_text

        for row, item in zip(rows, items, strict=True):
            row["cite"] = cite_text(fb, item.claim if isinstance(item, Hit) else item)
    _out(render_claim_rows(rows, fmt))


# --------------------------------------------------------------------------- commands


@app.command()
def search(
    query: Annotated[
        list[str], typer.Argument(metavar="QUERY", help="Words, a question, a name in any spelling or script, or a topic.")
    ],
    report: ReportOpt = None,
    person: PersonOpt = None,
    org: OrgOpt = None,
    topic: TopicOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = 10,
    partial: Annotated[
        bool, typer.Option("--partial", help='Add partial matches to data output, labelled "match": "partial".')
    ] = False,
    cite: Annotated[bool, typer.Option("--cite", help="Add a ready-to-paste text citation to every result.")] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """Search claims, names and topics, best match first. Exit 0 only when a claim answers
    the whole query; otherwise exit 1, naming the words no claim holds.

    Example: kzrights search "Tulesova" --report nit-2021
    """
    with _errors():
        text = " ".join(query)
        if not text.strip():
            raise UsageError("empty query: give words to search for")
        filters = _filters(report, person, org, topic, since, until)
        fb = _load(facts)
        answer = fb.answer(text, filters, limit)
        fmt = _fmt(fmt, as_json)
        if fmt is Format.table:
            if answer.hits:
                more = " (use --limit for more)" if answer.total > len(answer.hits) else ""
                title = f"{len(answer.hits)} of {answer.total} claims for {text!r}{more}"
                _emit_claims(fb, answer.hits, fmt, text, title=title, cite=cite)
            elif answer.partial:
                title = f"No claim answers {text!r}. Nearest partial matches, not answers (each lacks a query word):"
                _emit_claims(fb, answer.partial[:5], fmt, text, title=title, cite=cite)
        else:
            _emit_claims(fb, answer.hits + (answer.partial if partial else []), fmt, text, cite=cite)
        if not answer.answered:
            from .render import no_answer_message

            raise NotFoundError(no_answer_message(answer, filters.active()), answer.suggestions)


def _entity_command(kind: str, name: str, fmt: Format, filters: Filters, facts: str | None, limit: int | None) -> None:
    _name(name, "NAME")
    from .render import claim_dict, entity_dict, entity_panel

    fb = _load(facts)
    kinds = ("topic",) if kind == "topic" else (kind,)
    resolved = fb.resolve(name, kinds)
    if resolved.alternatives:
        _say(
            "did you mean: " + "; ".join(fb.label(c.tag) for c in resolved.alternatives) + f" (showing {fb.label(resolved.tag)})"
        )
    claims = fb.claims_of(resolved.tag, filters)
    claims.sort(key=lambda c: (c.report, c.date or "9999", c.id))
    if limit:
        claims = claims[:limit]
    ref = resolved.tag.split(":", 1)[1]
    if kind == "topic":
        t = fb.topics[ref]
        head: dict[str, Any] = {
            "id": t.id,
            "kind": "topic",
            "name": t.label,
            "aliases": list(t.aliases),
            "description": t.description,
        }
    else:
        head = entity_dict(fb, fb.entities[resolved.tag])
    if fmt is Format.table:
        from rich.text import Text

        if kind == "topic":
            panel = Text(clean(f"{head['name']}  (topic: {head['id']})"), style="bold")
            if head["aliases"]:
                panel.append("\nAlso: " + clean(", ".join(head["aliases"])), style="dim")
            panel.append(f"\n{len(claims)} claim(s)")
        else:
            panel = entity_panel(fb, fb.entities[resolved.tag], len(claims))
        _print(panel)
        for rep in fb.reports.values():
            mine = [c for c in claims if c.report == rep.id]
            if mine:
                _emit_claims(fb, mine, fmt, title=f"{rep.short}: {rep.title} ({len(mine)})")
        return
    if fmt is Format.json:
        if not sys.stdout.isatty():  # one line, written without importing json
            from .render import claim_json, json_value

            parts = ", ".join(claim_json(fb, c) for c in claims)
            _out(json_value(head)[:-1] + f', "claims": [{parts}]}}\n')
            return
        from .render import dumps

        head["claims"] = [claim_dict(fb, c) for c in claims]
        _out(dumps(head))
        return
    _emit_claims(fb, claims, fmt)


@app.command()
def person(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="A name in any spelling, Latin or Cyrillic; add a role or place to pick among namesakes.",
            autocompletion=_complete(("person",)),
        ),
    ],
    report: ReportOpt = None,
    topic: TopicOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: ClaimsLimitOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """The best-matching person and every claim about them, grouped by report.

    Example: kzrights person "Mamai"
    """
    with _errors():
        _entity_command("person", name, _fmt(fmt, as_json), _filters(report, None, None, topic, since, until), facts, limit)


@app.command()
def org(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="A name or abbreviation (DVK, QDT, OSDP ...).", autocompletion=_complete(("organization",))
        ),
    ],
    report: ReportOpt = None,
    topic: TopicOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: ClaimsLimitOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """The best-matching organisation (party, movement, NGO, state body, media ...) and its claims.

    Example: kzrights org "DVK"
    """
    with _errors():
        _entity_command("organization", name, _fmt(fmt, as_json), _filters(report, None, None, topic, since, until), facts, limit)


@app.command()
def topic(
    name: Annotated[
        str,
        typer.Argument(
            metavar="TOPIC",
            help="A topic label or synonym (media freedom, torture, trade unions ...).",
            autocompletion=_complete(("topic",)),
        ),
    ],
    report: ReportOpt = None,
    person: PersonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: ClaimsLimitOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """Every claim on a topic, grouped by report.

    Example: kzrights topic "press freedom" --report nit-2021
    """
    with _errors():
        _entity_command("topic", name, _fmt(fmt, as_json), _filters(report, person, None, None, since, until), facts, limit)


def _list_command(kind: str, fmt: Format, facts: str | None) -> None:
    from .render import _md_cell, dumps, entity_dict, simple_table, to_csv

    fb = _load(facts)
    rows = sorted(fb.counts(kind), key=lambda tc: (-tc[1], tc[0]))
    records: list[dict[str, Any]] = []
    for tag, n in rows:
        ref = tag.split(":", 1)[1]
        if kind == "topic":
            t = fb.topics[ref]
            records.append({"id": t.id, "kind": "topic", "name": t.label, "aliases": list(t.aliases), "claims": n})
        else:
            records.append({**entity_dict(fb, fb.entities[tag]), "claims": n})
    if fmt is Format.table:
        extra = "role" if kind == "person" else "category" if kind == "organization" else None
        cols = ["Name", "id", *([extra.capitalize()] if extra else []), "Claims"]
        _print(simple_table(cols, [[r["name"], r["id"], *([r.get(extra) or ""] if extra else []), r["claims"]] for r in records]))
    elif fmt is Format.json:
        _out(dumps(records))
    elif fmt is Format.jsonl:
        import json

        _out("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    elif fmt is Format.csv:
        flat = [{**r, "aliases": "; ".join(r["aliases"])} for r in records]
        _out(to_csv(flat, fields=list(flat[0]) if flat else ["id", "name", "claims"]))
    else:
        _out(
            "| Name | id | Claims |\n|---|---|---|\n"
            + "".join(f"| {_md_cell(r['name'])} | {_md_cell(r['id'])} | {r['claims']} |\n" for r in records)
        )


@app.command()
def people(fmt: FormatOpt = Format.table, as_json: JsonOpt = False, facts: FactsOpt = None) -> None:
    """Every person in the fact base with their number of claims."""
    with _errors():
        _list_command("person", _fmt(fmt, as_json), facts)


@app.command()
def orgs(fmt: FormatOpt = Format.table, as_json: JsonOpt = False, facts: FactsOpt = None) -> None:
    """Every organisation with its number of claims."""
    with _errors():
        _list_command("organization", _fmt(fmt, as_json), facts)


@app.command()
def topics(fmt: FormatOpt = Format.table, as_json: JsonOpt = False, facts: FactsOpt = None) -> None:
    """The topic vocabulary with the number of claims on each topic."""
    with _errors():
        _list_command("topic", _fmt(fmt, as_json), facts)


@app.command()
def show(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="A claim id, as shown in search results.")],
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """One claim in full: its citation, the report's notes with their URLs, related claims.

    Example: kzrights show nit-cs-08-tulesova-convicted
    """
    with _errors():
        fb = _load(facts)
        claim = fb.claim(claim_id)
        fmt = _fmt(fmt, as_json)
        if fmt is not Format.table:
            from .render import claim_dict, dumps

            d = claim_dict(fb, claim)
            if fmt is Format.json:
                _out(dumps(d))
            else:
                _emit_claims(fb, [claim], fmt)
            return
        from .render import claim_card

        _out(claim_card(fb, claim, *_terminal()), styled=True)


@app.command()
def sources(fmt: FormatOpt = Format.table, as_json: JsonOpt = False, facts: FactsOpt = None) -> None:
    """The reports in the fact base, with their claim counts."""
    with _errors():
        from .render import dumps, inert, simple_table, source_dicts

        fb = _load(facts)
        rows = source_dicts(fb)
        fmt = _fmt(fmt, as_json)
        if fmt is Format.table:
            _print(
                simple_table(
                    ["id", "Report", "Author", "Published", "Covers", "Claims"],
                    [
                        [
                            r["id"],
                            f"{r['title']} ({r['publisher']})",
                            r["author"],
                            r["published"] or "",
                            r["covers"] or "",
                            r["claims"],
                        ]
                        for r in rows
                    ],
                )
            )
            # URLs on lines of their own, so a terminal never breaks one inside the table
            _out("".join(f"{r['id']}: {inert(r['url'])}\n" for r in rows if r["url"]))
        elif fmt is Format.json:
            _out(dumps(rows))
        else:
            raise UsageError("sources: accepted formats are table and json")


def score_bar(score: float, lo: float, hi: float, width: int = 16) -> str:
    """A bar in eighths of a character: 1.25 and 1.50 on a 1-7 scale look different."""
    if not lo < hi or not lo <= score <= hi:  # the loader refuses such ratings; never divide by zero
        return "".ljust(width, "·")
    eighths = round((score - lo) / (hi - lo) * width * 8)
    full, part = divmod(max(eighths, 1), 8)
    return ("█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")).ljust(width, "·")


@app.command()
def scores(fmt: FormatOpt = Format.table, as_json: JsonOpt = False, facts: FactsOpt = None) -> None:
    """Nations in Transit ratings: Democracy Score and Percentage, and each category with a bar on the 1-7 scale."""
    with _errors():
        from .render import dumps

        fb = _load(facts)
        fmt = _fmt(fmt, as_json)
        out = []
        for r in fb.ratings:
            rep = fb.reports[r.report]
            out.append(
                {
                    "report": r.report,
                    "title": rep.title,
                    "status": r.status,
                    "scale": {"min": r.scale_min, "max": r.scale_max},
                    "democracy_score": r.democracy_score,
                    "democracy_percentage": r.democracy_percentage,
                    "previous": r.previous,
                    "source": {"section": r.section, "para": r.para},
                    "categories": [
                        {"name": c.name, "score": c.score, "source": {"section": c.section, "para": c.para}} for c in r.categories
                    ],
                }
            )
        if fmt is Format.json:
            _out(dumps(out))
            return
        if fmt is not Format.table:
            raise UsageError("scores: accepted formats are table and json")
        from rich.table import Table

        for r in fb.ratings:
            table = Table(title=clean(f"{fb.reports[r.report].title} — {r.status or ''}"), title_justify="left")
            table.add_column("Category")
            table.add_column("Score", justify="right")
            table.add_column(f"{r.scale_min:g} ─ {r.scale_max:g}", no_wrap=True)
            table.add_column("Source", style="cyan")

            def bar(score: float, lo: float = r.scale_min, hi: float = r.scale_max) -> str:
                return score_bar(score, lo, hi)

            for c in r.categories:
                table.add_row(clean(c.name), f"{c.score:.2f}", bar(c.score), clean(f"{c.section} ¶{c.para}"))
            table.add_row(
                "Democracy Score",
                f"{r.democracy_score:.2f}",
                bar(r.democracy_score),
                clean(f"{r.section} ¶{r.para}"),
                style="bold",
            )
            if r.democracy_percentage is not None:
                table.add_row("Democracy Percentage", f"{r.democracy_percentage:g} / 100", "", clean(f"{r.section} ¶{r.para}"))
            if r.previous:
                table.caption = clean("Last year: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r.previous.items()))
            _print(table)


@app.command()
def validate(facts: FactsOpt = None) -> None:
    """Check the fact base: schema, unique ids, every reference, every locator's report.

    Each problem is printed as FILE:LINE: MESSAGE; exit 2 on any problem.
    """
    with _errors():
        fb = FactBase.load(facts, use_cache=False)
        n = {k: sum(1 for e in fb.entities.values() if e.kind == k) for k in ("person", "organization", "place")}
        links = sum(len(c.related) for c in fb.all_claims()) // 2
        _out(
            f"ok: {len(fb)} claims, {n['person']} people, {n['organization']} organisations, {n['place']} places, "
            f"{len(fb.topics)} topics, {len(fb.reports)} reports, {links} links ({fb.root})\n"
        )


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    sqlite = "sqlite"


@app.command()
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl, json, csv, markdown or sqlite.", case_sensitive=False)
    ] = (ExportFormat.jsonl),
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-O",
            help="sqlite: the database file. csv: a folder for one CSV per table (a new one, or one a previous "
            "export made, replaced whole). Others: stdout.",
        ),
    ] = None,
    metadata: Annotated[
        str | None,
        typer.Option("--metadata", help="sqlite: also write Datasette metadata (titles, descriptions) to this file."),
    ] = None,
    report: ReportOpt = None,
    facts: FactsOpt = None,
) -> None:
    """Every claim in the same shape as search results, or the whole fact base as tables.

    Examples: kzrights export --format jsonl > claims.jsonl;
    kzrights export -f sqlite -O kzrights.db --metadata kzrights.json && datasette kzrights.db --metadata kzrights.json
    """
    with _errors():
        if metadata is not None and fmt is not ExportFormat.sqlite:
            raise UsageError("--metadata is for --format sqlite")
        if fmt is ExportFormat.sqlite or (fmt is ExportFormat.csv and output is not None):
            from .export import to_csv_folder, to_sqlite, write_metadata
            from .safe_write import check_target

            if output is None:
                raise UsageError("export --format sqlite needs --output FILE")
            if report:
                raise UsageError("--report does not apply to table exports: they hold the whole fact base")
            if not output:
                raise UsageError("--output: an empty path names nothing; give a file or folder name")
            target = Path(output)
            if fmt is ExportFormat.sqlite:
                check_target(target)
                if metadata is not None:
                    check_target(metadata)
                    if os.path.abspath(metadata) == os.path.abspath(target):
                        raise UsageError("--metadata must name another file than --output")
            if fmt is ExportFormat.sqlite and not target.parent.is_dir():
                raise UsageError(f"--output: no such directory: {target.parent}")
            fb = _load(facts)
            import sqlite3

            try:
                if fmt is ExportFormat.sqlite:
                    counts = to_sqlite(fb, target)
                    if metadata is not None:
                        write_metadata(fb, target, Path(metadata))
                    rows = sum(counts.values())
                    also = f" and {metadata}" if metadata is not None else ""
                    _say(f"wrote {output} ({counts['claims']} claims, {rows} rows in {len(counts)} tables){also}")
                else:
                    counts, replaced = to_csv_folder(fb, target)
                    again = ", replacing the previous export there" if replaced else ""
                    _say(f"wrote {len(counts)} CSV files to {output} ({counts['claims']} claims){again}")
            except (OSError, sqlite3.Error, OverflowError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise UsageError(f"cannot write {output}: {why}") from None
            return
        fb = _load(facts)
        if output is not None:
            raise UsageError("--output is for --format sqlite and --format csv (a folder); other formats go to stdout")
        from .render import claim_dict, render_claim_rows

        claims = fb.select(Filters(report=report))
        _out(render_claim_rows([claim_dict(fb, c) for c in claims], Format(fmt.value)))


class CiteStyle(str, Enum):
    text = "text"
    markdown = "markdown"
    bibtex = "bibtex"
    csl_json = "csl-json"


@app.command()
def cite(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="A claim id, as shown in search results.")],
    style: Annotated[CiteStyle, typer.Option("--style", "-s", help="Citation style.", case_sensitive=False)] = CiteStyle.text,
    facts: FactsOpt = None,
) -> None:
    """A ready citation of the report passage behind a claim, with the report's own sources.

    Example: kzrights cite nit-cs-08-tulesova-sentence --style bibtex
    """
    with _errors():
        from .cite import cite as make_citation

        fb = _load(facts)
        _out(make_citation(fb, fb.claim(claim_id), style.value) + "\n")


@app.command()
def browse(
    query: Annotated[
        list[str] | None, typer.Argument(metavar="[QUERY]", help="Words to start with; filters too, e.g. report:nit.")
    ] = None,
    facts: FactsOpt = None,
) -> None:
    """A full-screen finder: type and the claims narrow; read one with its citation; quit
    to print the selected claim's citation on stdout. Keys: ↑/↓ move, Enter the full claim,
    c copy the citation, o open the passage, p the person's profile, Tab focus, Esc/q quit.
    Filters in the search box: report:nit topic:torture person:Tulesova org:DVK since:2020 until:2020-06.

    Example: kzrights browse Tulesova | pbcopy
    """
    with _errors():
        # Textual draws on stderr and reads keys from stdin; stdout may be a pipe (| pbcopy).
        for name, stream in (("stdin", sys.stdin), ("stderr", sys.stderr)):
            if not stream.isatty():
                raise UsageError(f"browse needs a terminal, and {name} is not one; in a script, use `kzrights search`")
        try:
            from .browse import run_browser
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith("textual"):
                raise
            raise UsageError('browse needs Textual, which is not installed: pip install "kzrights[browse]"') from None
        citation, code = run_browser(_load(facts), " ".join(query or []))
    if citation:
        _out(citation + "\n")
    if code:
        raise typer.Exit(code)


@app.command()
def stats(fmt: FormatOpt = Format.table, as_json: JsonOpt = False, facts: FactsOpt = None) -> None:
    """What the fact base holds: claims per report and section, entities, links, paragraphs cited."""
    with _errors():
        from .render import dumps

        fb = _load(facts)
        claims = fb.all_claims()
        sections = []
        for rep in fb.reports.values():
            for sec in rep.sections:
                mine = [c for c in claims if c.report == rep.id and c.section == sec]
                paras = sorted({c.para for c in mine})
                sections.append(
                    {
                        "report": rep.id,
                        "section": sec,
                        "claims": len(mine),
                        "paragraphs_cited": len(paras),
                        "highest_paragraph": max(paras) if paras else 0,
                        "dated": sum(1 for c in mine if c.date),
                    }
                )
        link_kinds: dict[str, int] = {}
        for c in claims:
            for ln in c.related:
                link_kinds[ln.kind] = link_kinds.get(ln.kind, 0) + 1
        entities = {k: sum(1 for e in fb.entities.values() if e.kind == k) for k in ("person", "organization", "place")}
        links = {k: n // 2 for k, n in sorted(link_kinds.items())}
        data: dict[str, Any] = {
            "claims": len(claims),
            "by_report": fb.report_counts(),
            "sections": sections,
            "entities": entities,
            "topics": len(fb.topics),
            "links": links,
            "cross_report_links": sum(1 for c in claims for ln in c.related if ln.report != c.report) // 2,
            "notes_by_curators": sum(1 for c in claims if c.note),
        }
        fmt = _fmt(fmt, as_json)
        if fmt is Format.json:
            _out(dumps(data))
            return
        if fmt is not Format.table:
            raise UsageError("stats: accepted formats are table and json")
        from .render import simple_table

        rows = [[s["report"], s["section"], s["claims"], s["paragraphs_cited"], s["dated"]] for s in sections]
        _print(simple_table(["Report", "Section", "Claims", "Paragraphs cited", "Dated"], rows, title=f"{data['claims']} claims"))
        summary: list[list[Any]] = [[k, v] for k, v in entities.items()] + [["topic", data["topics"]]]
        summary += [[f"links: {k}", v] for k, v in links.items()]
        summary += [["curators' notes", data["notes_by_curators"]]]
        _print(simple_table(["What", "Count"], summary))


def _two_reports(fb: FactBase, left: str | None, right: str | None) -> tuple[str, str]:
    ids = list(fb.reports)
    left = left or (ids[0] if ids else None)
    right = right or next((r for r in ids if r != left), None)
    for opt, rep in (("--left", left), ("--right", right)):
        if rep not in fb.reports:
            raise UsageError(f"{opt}: unknown report {rep!r} (known: {', '.join(ids)})")
    if left == right or left is None or right is None:
        raise UsageError("compare needs two different reports")
    return left, right


@app.command()
def compare(
    subject: Annotated[str, typer.Argument(metavar="SUBJECT", help="A person, organisation, topic, or words.")],
    left: Annotated[
        str | None, typer.Option("--left", help="Report for the left column (default: the first in sources.yaml).")
    ] = None,
    right: Annotated[str | None, typer.Option("--right", help="Report for the right column (default: the second).")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """Both reports side by side: linked claims on one row, each report's own claims below.

    Example: kzrights compare "Tulesova"
    """
    with _errors():
        from .render import comparison_dict, dumps
        from .views import compare as compare_claims
        from .views import subject_claims

        filters = _filters(None, None, None, None, since, until)
        fb = _load(facts)
        lrep, rrep = _two_reports(fb, left, right)
        label, claims = subject_claims(fb, str(_name(subject, "SUBJECT")), filters)
        cmp = compare_claims(fb, label, claims, lrep, rrep)
        fmt = _fmt(fmt, as_json)
        if fmt is Format.json:
            _out(dumps(comparison_dict(fb, cmp)))
        elif fmt is Format.table:
            from .render import comparison_table

            _print(comparison_table(fb, cmp))
        else:
            raise UsageError("compare: accepted formats are table and json")
        if not (cmp.pairs or cmp.left_only or cmp.right_only):
            raise NotFoundError(f"nothing found for {subject!r}")


@app.command()
def conflicts(
    report: ReportOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """Where the two reports differ, and every curator's note on a slip in a report's text.

    Example: kzrights conflicts --json | jq '.differs | length'
    """
    with _errors():
        from .render import conflicts_dict, dumps
        from .views import conflicts as find_conflicts

        fb = _load(facts)
        if report is not None and report not in fb.reports:
            raise UsageError(f"unknown report {report!r} (known: {', '.join(fb.reports)})")
        differs, noted = find_conflicts(fb, report)
        fmt = _fmt(fmt, as_json)
        if fmt is Format.json:
            _out(dumps(conflicts_dict(fb, differs, noted)))
        elif fmt is Format.table:
            from .render import conflicts_tables

            for t in conflicts_tables(fb, differs, noted):
                _print(t)
        else:
            raise UsageError("conflicts: accepted formats are table and json")


@app.command()
def timeline(
    query: Annotated[
        str | None, typer.Argument(metavar="[SUBJECT]", help="Optional: a person, organisation, topic or words.")
    ] = None,
    report: ReportOpt = None,
    person: PersonOpt = None,
    org: OrgOpt = None,
    topic: TopicOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    facts: FactsOpt = None,
) -> None:
    """Dated claims in order, both reports interleaved, grouped by year.

    Example: kzrights timeline --since 2020-01 --until 2020-12 --topic elections
    """
    with _errors():
        from .render import claim_dict, dumps, render_claim_rows
        from .views import subject_claims
        from .views import timeline as order_by_date

        filters = _filters(report, person, org, topic, since, until)
        fb = _load(facts)
        if query is not None:
            _, claims = subject_claims(fb, str(_name(query, "SUBJECT")), filters)
        else:
            claims = fb.select(filters)
        dated, undated = order_by_date(claims)
        fmt = _fmt(fmt, as_json)
        if fmt is Format.json:
            _out(dumps({"claims": [claim_dict(fb, x) for x in dated], "undated": undated}))
        elif fmt is Format.table:
            if dated:
                from .render import timeline_table

                _print(timeline_table(fb, dated))
        else:
            _out(render_claim_rows([claim_dict(fb, x) for x in dated], fmt))
        if undated:
            _say(f"{undated} undated claim(s) not shown")
        if not dated:
            raise NotFoundError(
                "no dated claims" + (f" for {query!r}" if query else "") + (" with these filters" if filters.active() else "")
            )


@app.command("mcp")
def mcp_command(facts: FactsOpt = None) -> None:
    """Serve the fact base to an AI assistant: a Model Context Protocol server on stdin/stdout.

    Needs the MCP SDK (the "mcp" extra): pip install "mcp>=2,<3". The assistant's config starts it:
    {"mcpServers": {"kzrights": {"command": "kzrights", "args": ["mcp"]}}}
    """
    try:
        from .mcp_server import serve  # the SDK is imported by this command only
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types"):
            raise
        _say('the mcp command needs the MCP SDK (the "mcp" extra): pip install "mcp>=2,<3"')
        raise typer.Exit(2) from None
    with _errors():
        serve(facts)


def main() -> None:
    """Run the app (``kzrights.entry.main`` is the console entry point).

    Typer builds every command's parameters from its signature on each run (about 1.5 ms a
    command). When the first argument names a command, only that one is built: the same
    app, help and completion, minus the commands this process will not run.
    """
    # Bytes that are not UTF-8 arrive as lone surrogates; show them as U+FFFD rather than
    # fail later on output.
    sys.argv = [a.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for a in sys.argv]
    name = sys.argv[1] if len(sys.argv) > 1 else None
    chosen = [c for c in app.registered_commands if (c.name or (c.callback.__name__ if c.callback else None)) == name]
    if chosen:
        one = typer.Typer(
            **{k: getattr(app.info, k) for k in ("name", "help", "no_args_is_help")}, pretty_exceptions_enable=False
        )
        one.registered_callback = app.registered_callback
        one.registered_commands = chosen
        one()
    else:
        app()
