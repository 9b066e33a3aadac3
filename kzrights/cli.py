"""The command line: parses arguments, makes one call to the core, renders the result once.

Each data command is a Typer function that turns its arguments into one ``queries`` call and
hands the result to ``render.emit`` in the format asked for; ``@data_command`` gives every
one of them the same output options (``--format``, ``--json``, ``--no-pager``, ``--facts``)
and filters, as sqlite-utils' ``@output_options`` does. Results go to stdout, messages to
stderr. Exit codes follow grep: 0 found, 1 nothing found, 2 usage or data error. rich is
imported only to draw a table.
"""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from functools import partial
from typing import Annotated, Any

import typer

from . import __version__, queries
from .completion import Completes, Group
from .errors import FactBaseError, KzrightsError, NotFoundError, UsageError
from .factbase import FactBase, Filters
from .options import ALL_FILTERS, ClaimsLimitOpt, Command, FactsOpt, LimitOpt, NoPagerOpt, Out, ReportOpt, with_options
from .render import Format
from .safe import clean

HELP = """Look up what two 2021 reports on Kazakhstan say about a person or a topic, with exact citations.

Examples:

  kzrights search "Tulesova sentence"

  kzrights person Mamai --json | jq '.claims[].source.citation'

  kzrights cite nit-cs-08-tulesova-sentence fpc-hr-22-tulesova-sentence
"""

app = typer.Typer(name="kzrights", help=HELP, no_args_is_help=True, pretty_exceptions_enable=False, cls=Group)

# --------------------------------------------------------------------------- plumbing

MAX_MESSAGE = 1000  # characters of one message line
_given: dict[str, Any] = {}  # the options given before the command (--facts, --no-pager)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"kzrights {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    facts: FactsOpt = None,
    no_pager: NoPagerOpt = False,
) -> None:
    _given.update(facts=facts, no_pager=no_pager)


def _say(line: str) -> None:
    _err(f"kzrights: {line}")


def _err(line: str) -> None:
    """One message line on stderr. Messages quote file names, YAML keys and arguments: each
    passes ``clean`` so it stays one visible line, and a huge argument quoted back is cut."""
    line = clean(line, one_line=True)
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE] + f"… ({len(line) - MAX_MESSAGE} more characters)"
    sys.stderr.write(line + "\n")


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


def _load(facts: str | None, use_cache: bool = True) -> FactBase:
    return FactBase.load(facts or _given.get("facts"), use_cache=use_cache)


def _emit(out: Out, query: Callable[[FactBase], Any], cite: bool = False) -> Any:
    """Load the fact base, make the command's one query, write its result in the format asked
    for; the result, for what the command says after it."""
    from . import render

    fb = _load(out.facts)
    result = query(fb)
    render.emit(fb, result, out.fmt, cite=cite, pager=out.pager and not _given.get("no_pager"))
    return result


def _write(text: str) -> None:
    from .render.output import show

    show(text, pager=not _given.get("no_pager"))


def data_command(
    name: str | None = None, filters: tuple[str, ...] = (), doc: str | None = None
) -> Callable[[Callable[..., None]], Any]:
    """Register a data command. Its function takes its own arguments and options, then
    ``filters`` (a ``Filters`` from the options named, checked) and ``out`` (an ``Out``),
    and runs inside ``_errors``; the command line gets the filter and output options
    (``options.with_options``)."""

    def register(func: Callable[..., None]) -> Any:
        def run(kw: dict[str, Any], given: dict[str, Any], out: Out) -> None:
            with _errors():
                func(**kw, filters=queries.make_filters(**given), out=out)

        return app.command(name or func.__name__, cls=Command)(with_options(func, filters, run, doc))

    return register


# --------------------------------------------------------------------------- commands


@data_command(filters=ALL_FILTERS)
def search(
    query: Annotated[
        list[str], typer.Argument(metavar="QUERY...", help="Words, a question, a name in any spelling or script, or a topic.")
    ],
    limit: LimitOpt = 10,
    partial: Annotated[
        bool, typer.Option("--partial", help='Add partial matches to data output, labelled "match": "partial".')
    ] = False,
    cite: Annotated[bool, typer.Option("--cite", help="Add a ready-to-paste text citation to every result.")] = False,
    *,
    filters: Filters,
    out: Out,
) -> None:
    """Search claims, names and topics, best match first. Exit 0 only when a claim answers
    the whole query; otherwise exit 1, naming the words no claim holds.

    Examples:

      kzrights search Tulesova --report nit-2021
      kzrights search "how many political prisoners" --cite
      kzrights search torture --since 2020 --format csv > torture.csv
    """
    text = " ".join(query)
    if not text.strip():
        raise UsageError("empty query: give words to search for")
    # only the table says "10 of 641,234 claims": the data formats carry no count
    counted = out.fmt == Format.table
    found = _emit(out, lambda fb: queries.search(fb, text, filters, limit, partial, counted), cite=cite)
    if not found.answer.answered:
        raise NotFoundError(queries.no_answer_message(found.answer, found.filtered), found.answer.suggestions)


def _entity_command(kind: str, command: str, arg_help: str, also: str, doc: str) -> None:
    """Register ``person``, ``org`` or ``topic``: the best match for a name and its claims,
    grouped by report; the close others on stderr. ``also`` is the name filter each takes."""
    metavar = "TOPIC" if kind == "topic" else "NAME"

    def entity(
        name: Annotated[str, typer.Argument(metavar=metavar, help=arg_help, click_type=Completes(kind))],
        limit: ClaimsLimitOpt = None,
        *,
        filters: Filters,
        out: Out,
    ) -> None:
        queries.bounded(name, "NAME")

        def report_on(fb: FactBase) -> Any:
            found = queries.entity_report(fb, kind, name, filters, limit)
            if found.alternatives:
                _say(f"did you mean: {'; '.join(found.alternatives)} (showing {fb.label(f'{found.kind}:{found.record.id}')})")
            return found

        _emit(out, report_on)

    data_command(command, ("report", also, "since", "until"), doc)(entity)


_entity_command(
    "person",
    "person",
    "A name in any spelling, Latin or Cyrillic; add a role or place to pick among namesakes.",
    "topic",
    """The best-matching person and every claim about them, grouped by report.

    Examples:

      kzrights person Mamai
      kzrights person "Abishev health ministry"
      kzrights person Tokayev --topic elections --format markdown
    """,
)
_entity_command(
    "organization",
    "org",
    "A name or abbreviation (DVK, QDT, OSDP ...).",
    "topic",
    """The best-matching organisation (party, movement, NGO, state body, media ...) and its claims.

    Examples:

      kzrights org DVK
      kzrights org "Nur Otan" --report nit-2021
    """,
)
_entity_command(
    "topic",
    "topic",
    "A topic label or synonym (media freedom, torture, trade unions ...).",
    "person",
    """Every claim on a topic, grouped by report.

    Examples:

      kzrights topic "press freedom" --report nit-2021
      kzrights topic torture --since 2020 --json
    """,
)


@data_command()
def show(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="A claim id, as shown in search results.")],
    *,
    filters: Filters,
    out: Out,
) -> None:
    """One claim in full: its citation, the report's notes with their URLs, related claims.

    Examples:

      kzrights show nit-cs-08-tulesova-convicted
      kzrights show nit-cs-08-tulesova-convicted --json
    """
    _emit(out, lambda fb: queries.claims_by_id(fb, [claim_id])[0])


def _simple_command(name: str, query: Callable[[FactBase], Any], about: str, example: str) -> None:
    """Register a command that takes no argument of its own: one query, rendered."""
    doc = f"{about}\n\nExamples:\n\n  kzrights {name}\n  kzrights {name} {example}"
    data_command(name, doc=doc)(lambda *, filters, out: _emit(out, query))


SCALE = "on the 1-7 scale (1 least democratic, 7 most), and the Democracy Percentage (0-100, 100 most democratic)"
for _name, _query, _about, _example in (
    ("people", partial(queries.listing, kind="person"), "Every person in the fact base with their number of claims.", "-f csv"),
    (
        "orgs",
        partial(queries.listing, kind="organization"),
        "Every organisation with its number of claims.",
        "--json | jq '.[0]'",
    ),
    ("topics", partial(queries.listing, kind="topic"), "The topic vocabulary with the number of claims on each.", "-f markdown"),
    ("sources", queries.sources, "The reports in the fact base, with their claim counts and URLs.", "--json | jq '.[].url'"),
    ("scores", queries.scores, f"Nations in Transit ratings: each category and the Democracy Score {SCALE}.", "--format csv"),
    (
        "stats",
        queries.stats,
        "What the fact base holds: claims per report and section, entities, links.",
        "--json | jq .by_report",
    ),
):
    _simple_command(_name, _query, _about, _example)


@app.command(cls=Command)
def validate(facts: FactsOpt = None) -> None:
    """Check the fact base: schema, unique ids, every reference, every locator's report.

    Each problem is printed as FILE:LINE: MESSAGE; exit 2 on any problem. Example: kzrights validate --facts ./facts
    """
    with _errors():
        fb = _load(facts, use_cache=False)
        n = queries.entity_counts(fb)
        _write(
            f"ok: {fb.store.n} claims, {n['person']} people, {n['organization']} organisations, {n['place']} places, "
            f"{len(fb.topics)} topics, {len(fb.reports)} reports, {fb.store.link_ends() // 2} links ({fb.root})\n"
        )


# export's formats: the data formats (no table: its output is for programs) and sqlite
ExportFormat = Enum(
    "ExportFormat", {"jsonl": "jsonl", "json": "json", "csv": "csv", "markdown": "markdown", "sqlite": "sqlite"}, type=str
)


@app.command(cls=Command)
def export(
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", metavar="FORMAT", help="jsonl, json, csv, markdown or sqlite.", case_sensitive=False),
    ] = ExportFormat.jsonl,
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
        str | None, typer.Option("--metadata", help="sqlite: also write Datasette metadata (titles, descriptions) to this file.")
    ] = None,
    report: ReportOpt = None,
    facts: FactsOpt = None,
) -> None:
    """Every claim in the same shape as search results, or the whole fact base as tables.

    Examples:

      kzrights export --format jsonl > claims.jsonl
      kzrights export -f sqlite -O kzrights.db --metadata kzrights.json && datasette kzrights.db --metadata kzrights.json
    """
    with _errors():
        if metadata is not None and fmt is not ExportFormat.sqlite:
            raise UsageError("--metadata is for --format sqlite")
        if fmt is ExportFormat.sqlite and output is None:
            raise UsageError("export --format sqlite needs --output FILE")
        if output is not None and fmt in (ExportFormat.sqlite, ExportFormat.csv):
            from .export import check_targets, export_tables

            check_targets(fmt.value, output, metadata, report)
            _say(export_tables(_load(facts), fmt.value, output, metadata))
            return
        if output is not None:
            raise UsageError("--output is for --format sqlite and --format csv (a folder); other formats go to stdout")
        _emit(Out(Format(fmt.value), facts, True), lambda fb: queries.select(fb, Filters(report=report)))


CiteStyle = Enum("CiteStyle", {"text": "text", "markdown": "markdown", "bibtex": "bibtex", "csl_json": "csl-json"}, type=str)


@app.command(cls=Command)
def cite(
    claim_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Claim ids, as shown in search results.")],
    style: Annotated[
        CiteStyle,
        typer.Option("--style", "-s", help="text, markdown, bibtex or csl-json.", metavar="STYLE", case_sensitive=False),
    ] = CiteStyle.text,
    facts: FactsOpt = None,
) -> None:
    """Ready citations of the report passages behind claims, each with the link that opens the
    report at the passage and the report's own sources; several ids: each with its claim.

    Examples:

      kzrights cite nit-cs-08-tulesova-sentence
      kzrights cite nit-cs-08-tulesova-sentence fpc-hr-22-tulesova-sentence --style bibtex > tulesova.bib
    """
    with _errors():
        from .cite import cite_all

        fb = _load(facts)
        found = queries.citations(fb, claim_ids, style.value)
        _write(cite_all(fb, found.claims, found.style) + "\n")


@app.command(cls=Command)
def browse(
    query: Annotated[
        list[str] | None, typer.Argument(metavar="[QUERY]...", help="Words to start with; filters too, e.g. report:nit.")
    ] = None,
    facts: FactsOpt = None,
) -> None:
    """A full-screen finder: type and the claims narrow; read one with its citation; quit
    to print the selected claim's citation on stdout.

    Keys: ↑/↓ move, Enter the full claim,
    c copy the citation, o open the passage, p the person's profile, Tab focus, Esc/q quit.
    Filters in the search box: report:nit topic:torture person:Tulesova org:DVK since:2020 until:2020-06.

    Examples:

      kzrights browse Tulesova | pbcopy
      kzrights browse "report:nit topic:torture"
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
        sys.stdout.write(clean(citation) + "\n")
    if code:
        raise typer.Exit(code)


@data_command(filters=("person", "org", "topic", "since", "until"))
def compare(
    subject: Annotated[str | None, typer.Argument(metavar="[SUBJECT]", help="A person, organisation, topic, or words.")] = None,
    left: Annotated[
        str | None,
        typer.Option(
            "--left", metavar="REPORT", help="Report for the left column (default: the first).", click_type=Completes("report")
        ),
    ] = None,
    right: Annotated[
        str | None,
        typer.Option(
            "--right", metavar="REPORT", help="Report for the right column (default: the second).", click_type=Completes("report")
        ),
    ] = None,
    *,
    filters: Filters,
    out: Out,
) -> None:
    """Both reports side by side: each group of linked claims on one row (= corroborates,
    + complements, ≠ differs), then each report's own claims. Without a SUBJECT: every claim
    the filters allow.

    Examples:

      kzrights compare Tulesova
      kzrights compare torture --since 2020
      kzrights compare --topic elections --json
    """
    about = queries.bounded(subject, "SUBJECT")
    if about is None and not filters.active():
        raise UsageError("compare needs a SUBJECT or a filter (--person, --org, --topic, --since, --until)")
    cmp = _emit(out, lambda fb: queries.compare(fb, about, left, right, filters))
    if not (cmp.pairs or cmp.left_only or cmp.right_only):
        raise NotFoundError(f"nothing found for {subject or 'these filters'!r}")


@data_command(filters=("report", "topic", "since", "until"))
def conflicts(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only claims about this person, organisation, topic or these words.")
    ] = None,
    *,
    filters: Filters,
    out: Out,
) -> None:
    """Where the two reports differ (real disagreements first, then differences of year,
    wording or precision), and every curator's note on a slip in a report's text.

    Examples:

      kzrights conflicts
      kzrights conflicts --subject Koshe
      kzrights conflicts --json | jq '.differs | length'
    """
    about = queries.bounded(subject, "--subject")
    _emit(out, lambda fb: queries.conflicts(fb, filters.report, about, filters))


@data_command(filters=ALL_FILTERS)
def timeline(
    query: Annotated[
        str | None, typer.Argument(metavar="[SUBJECT]", help="Optional: a person, organisation, topic or words.")
    ] = None,
    *,
    filters: Filters,
    out: Out,
) -> None:
    """Dated claims in order, both reports interleaved, grouped by year.

    Examples:

      kzrights timeline --since 2020-01 --until 2020-12 --topic elections
      kzrights timeline Tulesova
    """
    about = queries.bounded(query, "SUBJECT")
    found = _emit(out, lambda fb: queries.timeline(fb, about, filters))
    if found.undated:
        _say(f"{found.undated} undated claim(s) not shown")
    if not found.claims:
        raise NotFoundError(
            "no dated claims" + (f" for {query!r}" if query else "") + (" with these filters" if filters.active() else "")
        )


@app.command("mcp", cls=Command)
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
        serve(facts or _given.get("facts"))


def _command_name(args: list[str]) -> str | None:
    """The command the arguments name, past the options given before it (``--facts DIR``)."""
    i = 0
    while i < len(args) and (args[i] in ("--facts", "--no-pager") or args[i].startswith("--facts=")):
        i += 2 if args[i] == "--facts" else 1
    return args[i] if i < len(args) else None


def main() -> None:
    """Run the app (``kzrights.entry.main`` is the console entry point).

    Typer builds every command's parameters from its signature on each run (about 1.5 ms a
    command). When the first argument names a command, only that one is built: the same
    app, help and completion, minus the commands this process will not run.
    """
    # Bytes that are not UTF-8 arrive as lone surrogates; show them as U+FFFD rather than
    # fail later on output.
    sys.argv = [a.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for a in sys.argv]
    name = _command_name(sys.argv[1:])
    chosen = [c for c in app.registered_commands if (c.name or (c.callback.__name__ if c.callback else None)) == name]
    if chosen and not os.environ.get("_KZRIGHTS_COMPLETE"):
        one = typer.Typer(
            **{k: getattr(app.info, k) for k in ("name", "help", "no_args_is_help")}, pretty_exceptions_enable=False, cls=Group
        )
        one.registered_callback = app.registered_callback
        one.registered_commands = chosen
        one()
    else:
        app()
