"""kzrights for AI assistants: a Model Context Protocol server over stdio (``kzrights mcp``).

The tools call the same core as the command line (``queries``, ``cite``)
and return the README's JSON contract as structured content, with a short text rendering
beside it for clients that only show text to the model. Every claim carries its citation.

Domain errors become tool errors (``is_error``) with the message the CLI would print; the
SDK keeps stdout for protocol messages only while it serves. Only ``kzrights mcp`` imports
this module, so no other command pays for the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal, NotRequired

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict  # pydantic needs this TypedDict below Python 3.12

from . import __version__, queries
from .dates import checked_date
from .errors import KzrightsError, NotFoundError, UsageError
from .factbase import FactBase, Filters
from .model import Claim
from .render.contract import claim_dict, comparison_dict, conflicts_dict, entity_dict, source_dicts

CITE_RULE = (
    "Every statement you pass on from these results must carry that claim's citation "
    "(source.citation, e.g. 'FH NIT 2021 · Civil Society ¶8 [94]', or a full one from the cite tool) "
    "and keep the report's own hedges; say what the reports do not cover rather than filling the gap."
)

INSTRUCTIONS = (
    "kzrights answers from two 2021 reports on Kazakhstan only: the Foreign Policy Centre's "
    "'Retreating Rights' (fpc-2021) and Freedom House's 'Nations in Transit 2021' (nit-2021, covering 2020). "
    "Each claim is one fact in curators' words with an exact locator (report, section, paragraph, the "
    "report's note numbers and their URLs). " + CITE_RULE + " When search_claims returns answered=false, "
    "the reports do not say it: tell the user so."
)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

MAX_LIMIT = 100
MAX_IDS = 50
STYLES = ("text", "markdown", "bibtex", "csl-json")

# --------------------------------------------------------------------------- output schemas
# Top-level shapes only; a claim object is the README's JSON contract (pinned by tests).


class SourceObject(TypedDict):
    report: str
    title: str | None
    publisher: str | None
    author: str | None
    section: str
    para: int
    notes: list[int]
    urls: list[str]
    citation: str


class ClaimObject(TypedDict):
    id: str
    claim: str
    date: str | None
    people: list[dict[str, Any]]
    organizations: list[dict[str, Any]]
    places: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    source: SourceObject
    note: str | None
    related: list[dict[str, Any]]
    score: NotRequired[float]
    matched: NotRequired[dict[str, Any] | None]
    match: NotRequired[Literal["full", "partial"]]
    lacks: NotRequired[list[str]]


class SearchResult(TypedDict):
    query: str
    answered: bool
    message: str | None
    total: int
    claims: list[ClaimObject]
    partial: list[ClaimObject]
    missing_words: list[str]
    did_you_mean: list[str]


class EntityResult(TypedDict):
    query: str
    found: bool
    message: str | None
    entity: dict[str, Any] | None
    claims_total: int
    claims_by_report: dict[str, list[str]]
    did_you_mean: list[str]


class Citation(TypedDict):
    id: str
    citation: str


class CiteResult(TypedDict):
    style: str
    citations: list[Citation]


class SourcesResult(TypedDict):
    reports: list[dict[str, Any]]


EntityTool = Annotated[CallToolResult, EntityResult]
PersonName = Annotated[str, Field(description="A name in any spelling (Mamai, Мамай, Zhanbolat Mamay).")]
OrgName = Annotated[str, Field(description="A name or abbreviation.")]
ReportArg = Annotated[str | None, Field(description="Only claims from this report (fpc-2021, nit-2021).")]
EntityLimit = Annotated[int, Field(ge=1, le=500, description="Most claims to return, taken from both reports in turn.")]


# --------------------------------------------------------------------------- helpers


@contextmanager
def _tool_errors() -> Iterator[None]:
    """Domain errors become tool errors carrying the CLI's message lines."""
    try:
        yield
    except KzrightsError as exc:
        lines = exc.lines()
        more = f"\n... and {len(lines) - 20} more" if len(lines) > 20 else ""
        raise ToolError("\n".join(lines[:20]) + more) from None


def _result(data: Any, text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _claim_text(d: dict[str, Any]) -> str:
    """One claim as a line the assistant can quote: text, citation, date, id."""
    when = f"; {d['date']}" if d.get("date") else ""
    line = f"- {d['claim']} [{d['source']['citation']}{when}] (id: {d['id']})"
    if d.get("match") == "partial":
        line += f" PARTIAL MATCH, lacks: {', '.join(d.get('lacks', []))}"
    if d.get("note"):
        line += f"\n  Curator's note: {d['note']}"
    return line


def _report_name(fb: FactBase, report: str) -> str:
    r = fb.reports.get(report)
    return f"{r.short} ({report})" if r else report


def _spread(claims: list[Claim], limit: int | None) -> list[Claim]:
    """At most ``limit`` claims, taken from each report in turn (so a cut keeps both reports),
    then ordered by report, date and id as ``person --json`` orders them."""

    def key(c: Claim) -> tuple[str, str, str]:
        return (c.report, c.date or "9999", c.id)

    claims = sorted(claims, key=key)
    if limit is None or len(claims) <= limit:
        return claims
    queues: dict[str, list[Claim]] = {}
    for c in claims:
        queues.setdefault(c.report, []).append(c)
    chosen: list[Claim] = []
    while len(chosen) < limit:
        for q in queues.values():
            if q and len(chosen) < limit:
                chosen.append(q.pop(0))
    return sorted(chosen, key=key)


# --------------------------------------------------------------------------- the server


def build_server(facts: str | None = None) -> MCPServer:
    """The MCP server over the fact base in ``facts`` (default: the one shipped with kzrights).

    The fact base is loaded on each call (a few milliseconds from the cache), so an edit to the
    facts reaches a running server as it reaches the next command.
    """
    server = MCPServer(
        name="kzrights",
        title="kzrights: two 2021 reports on Kazakhstan, with citations",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )

    def load() -> FactBase:
        return FactBase.load(facts)

    @server.tool(
        title="Search the reports' claims",
        annotations=READ_ONLY,
        description=(
            "Search the claims of both reports (words, a question, a name in any spelling or script, a topic). "
            "Returns {query, answered, message, total, claims, partial, missing_words, did_you_mean}: `claims` are the "
            "claims that answer the whole query, best first, each with id, claim text, date, people/organizations/"
            "topics, source (report, section, para, notes, urls, citation), curator's note, related claims of the "
            "other report, score, and `matched` (why it matched). answered=false means no claim answers the whole "
            "query: the reports do not say it (`message` and `missing_words` tell which words no claim holds); "
            "`partial` lists near misses only when partial=true, each labelled match='partial' with the words it "
            "lacks; they are not answers. " + CITE_RULE
        ),
    )
    def search_claims(
        query: Annotated[str, Field(description="Words, a question, a name (any spelling, Latin or Cyrillic) or a topic.")],
        report: Annotated[str | None, Field(description="Only this report: fpc-2021 or nit-2021 (see list_sources).")] = None,
        topic: Annotated[str | None, Field(description="Only claims on this topic (label or synonym).")] = None,
        person: Annotated[str | None, Field(description="Only claims about this person (any spelling).")] = None,
        organization: Annotated[
            str | None, Field(description="Only claims about this organisation (name or abbreviation).")
        ] = None,
        since: Annotated[str | None, Field(description="Only claims dated in or after YYYY[-MM[-DD]] (by overlap).")] = None,
        until: Annotated[str | None, Field(description="Only claims dated in or before YYYY[-MM[-DD]] (by overlap).")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Most claims to return.")] = 10,
        partial: Annotated[bool, Field(description="Also return the nearest partial matches (labelled, not answers).")] = False,
    ) -> Annotated[CallToolResult, SearchResult]:
        with _tool_errors():
            filters = Filters(report, person, organization, topic, checked_date("since", since), checked_date("until", until))
            fb = load()
            answer = fb.answer(query, filters, limit)
            claims = [claim_dict(fb, h.claim, h) for h in answer.hits]
            near = [claim_dict(fb, h.claim, h) for h in answer.partial] if partial else []
            message = None if answer.answered else queries.no_answer_message(answer, filters.active())
            data: SearchResult = {
                "query": query,
                "answered": answer.answered,
                "message": message,
                "total": answer.total,
                "claims": claims,  # type: ignore[typeddict-item]  # claim_dict builds the contract
                "partial": near,  # type: ignore[typeddict-item]
                "missing_words": list(answer.missing),
                "did_you_mean": list(answer.suggestions),
            }
            if answer.answered:
                more = " (more with a higher limit)" if answer.total > len(claims) else ""
                lines = [f"{len(claims)} of {answer.total} claims answer {query!r}{more}, best first:"]
                lines += [_claim_text(d) for d in claims]
            else:
                lines = [f"No answer: {message}. The two reports do not say this; tell the user so."]
                if answer.suggestions:
                    lines.append("Did you mean: " + "; ".join(answer.suggestions))
                if near:
                    lines.append("Nearest partial matches (NOT answers; each lacks a query word):")
                    lines += [_claim_text(d) for d in near]
            return _result(data, "\n".join(lines))

    def entity_tool(kind: str, name: str, report: str | None, limit: int | None) -> CallToolResult:
        with _tool_errors():
            fb = load()
            filters = Filters(report=report)
            try:
                resolved = fb.resolve(name, (kind,))
            except NotFoundError as exc:
                missing: EntityResult = {
                    "query": name,
                    "found": False,
                    "message": str(exc),
                    "entity": None,
                    "claims_total": 0,
                    "claims_by_report": {},
                    "did_you_mean": exc.suggestions,
                }
                text = f"Not found: {exc}." + (" Did you mean: " + "; ".join(exc.suggestions) if exc.suggestions else "")
                return _result(missing, text)
            entity = fb.entities[resolved.tag]
            everything = fb.claims_of(resolved.tag, filters)
            claims = _spread(everything, limit)
            by_report: dict[str, list[str]] = {}
            for c in claims:
                by_report.setdefault(c.report, []).append(c.id)
            alternatives = [fb.label(c.tag) for c in resolved.alternatives]
            message = None
            if alternatives:
                message = f"{name!r} also matches {'; '.join(alternatives)}; showing {fb.label(resolved.tag)}"
            head = entity_dict(fb, entity, claims)
            data: EntityResult = {
                "query": name,
                "found": True,
                "message": message,
                "entity": head,
                "claims_total": len(everything),
                "claims_by_report": by_report,
                "did_you_mean": alternatives,
            }
            lines = [
                f"{entity.name} ({entity.kind}: {entity.id})"
                + (f", {entity.role or entity.category}" if entity.role or entity.category else "")
            ]
            if entity.description:
                lines.append(entity.description)
            if entity.aliases:
                lines.append("Also written: " + ", ".join(entity.aliases))
            if message:
                lines.append(f"Did you mean another? {message}.")
            shown = f"{len(claims)} of {len(everything)}" if len(claims) < len(everything) else str(len(claims))
            lines.append(f"{shown} claims" + (" (raise limit for more)" if len(claims) < len(everything) else "") + ":")
            rows = {d["id"]: d for d in head["claims"]}
            for rep, ids in by_report.items():
                lines.append(f"{_report_name(fb, rep)}, {len(ids)}:")
                lines += [_claim_text(rows[i]) for i in ids]
            return _result(data, "\n".join(lines))

    entity_returns = (
        "Returns {query, found, message, entity, claims_total, claims_by_report, did_you_mean}: `entity` has id, kind, "
        "name, aliases, EXTRAdescription and `claims` (claim objects with source.citation, ordered by report "
        "then date); `claims_by_report` lists the claim ids of each report. When the name fits several, the best is "
        "shown and the others are in `did_you_mean`; when it fits none, found=false with `did_you_mean` candidates. "
    )

    def get_person(name: PersonName, report: ReportArg = None, limit: EntityLimit = 25) -> EntityTool:
        return entity_tool("person", name, report, limit)

    def get_organization(name: OrgName, report: ReportArg = None, limit: EntityLimit = 25) -> EntityTool:
        return entity_tool("organization", name, report, limit)

    for tool, title, about, extra in (
        (
            get_person,
            "A person and the reports' claims about them",
            "Look up a person by name in any spelling or script (add a role or place to pick among namesakes). ",
            "role, ",
        ),
        (
            get_organization,
            "An organisation and the reports' claims about it",
            "Look up an organisation (party, movement, NGO, state body, court, media outlet) by name or abbreviation "
            "(DVK, Nur Otan, KIBHR). ",
            "category, ",
        ),
    ):
        description = about + entity_returns.replace("EXTRA", extra) + CITE_RULE
        server.tool(title=title, annotations=READ_ONLY, description=description)(tool)

    @server.tool(
        title="One claim in full",
        annotations=READ_ONLY,
        description=(
            "One claim by id (as given by the other tools). Returns the claim object (id, claim, date, people, organizations, "
            "places, topics, source with report/section/para/notes/urls/citation, curator's note, related claims of "
            "the other report). The text rendering adds the report's note texts and the related claims. "
            "An unknown id is an error naming close ids. " + CITE_RULE
        ),
    )
    def get_claim(
        id: Annotated[str, Field(description="A claim id, e.g. nit-cs-08-tulesova-sentence.")],
    ) -> Annotated[CallToolResult, ClaimObject]:
        from .render.card import claim_card

        with _tool_errors():
            fb = load()
            claim = queries.claims_by_id(fb, [id])[0]
            return _result(claim_dict(fb, claim), claim_card(fb, claim, width=100))

    @server.tool(
        title="Citations for claims",
        annotations=READ_ONLY,
        description=(
            "Ready-to-paste citations of the report passages behind claims: the report, section, paragraph and the "
            "report's own sources with their URLs. style: text (default), markdown, bibtex or csl-json (one CSL-JSON "
            "array per claim). Returns {style, citations: [{id, citation}]}. Unknown ids are an error naming close ids."
        ),
    )
    def cite(
        ids: Annotated[list[str], Field(min_length=1, max_length=MAX_IDS, description="Claim ids, as given by the other tools.")],
        style: Annotated[Literal["text", "markdown", "bibtex", "csl-json"], Field(description="Citation style.")] = "text",
    ) -> Annotated[CallToolResult, CiteResult]:
        with _tool_errors():
            found = queries.citations(load(), ids, style)
            citations: list[Citation] = [{"id": c.id, "citation": t} for c, t in zip(found.claims, found.texts, strict=True)]
            data: CiteResult = {"style": style, "citations": citations}
            return _result(data, "\n\n".join(c["citation"] for c in citations))

    @server.tool(
        title="Both reports side by side",
        annotations=READ_ONLY,
        description=(
            "What each report says about a subject (a person, organisation or topic when it names one, otherwise the "
            "claims a search finds), side by side. Returns {subject, left, right, pairs, fpc_only, nit_only}: `pairs` "
            "hold claims of the two reports about the same event, with kind corroborates, complements or differs "
            "(differs carries a note saying how they differ); *_only lists each report's unlinked claims. "
            "Empty lists mean neither report covers the subject. " + CITE_RULE
        ),
    )
    def compare(
        subject: Annotated[str, Field(description="A person, organisation, topic, or words.")],
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        with _tool_errors():
            fb = load()
            if len(fb.reports) < 2:
                raise UsageError("compare needs two reports in the fact base")
            cmp = queries.compare(fb, subject)
            data = comparison_dict(fb, cmp)
            left, right = _report_name(fb, cmp.left), _report_name(fb, cmp.right)
            lines = [
                f"{cmp.subject}: {len(cmp.pairs)} linked pairs, {len(cmp.left_only)} only in {left}, "
                f"{len(cmp.right_only)} only in {right}."
            ]
            if not (cmp.pairs or cmp.left_only or cmp.right_only):
                lines.append("Neither report covers this subject.")
            for p in cmp.pairs:
                lines.append(f"{p.kind.upper()}" + (f": {p.note}" if p.note else ""))
                lines += ["  " + _claim_text(claim_dict(fb, c)) for c in (p.left, p.right)]
            for side, only in ((left, cmp.left_only), (right, cmp.right_only)):
                if only:
                    lines.append(f"Only in {side}:")
                    lines += [_claim_text(claim_dict(fb, c)) for c in only]
            return _result(data, "\n".join(lines))

    @server.tool(
        title="Where the reports differ",
        annotations=READ_ONLY,
        description=(
            "Every pair of claims where the two reports differ about the same event (with a curator's note saying "
            "how), and every claim with a curator's note on a slip in a report's text. Returns {differs: [{note, "
            "claims: [a, b]}], notes: [claim objects]}. " + CITE_RULE
        ),
    )
    def conflicts(
        report: Annotated[str | None, Field(description="Only claims of this report (fpc-2021, nit-2021).")] = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        with _tool_errors():
            fb = load()
            found = queries.conflicts(fb, report)
            lines = [f"{len(found.differs)} places where the reports differ:"]
            for d in found.differs:
                lines.append(f"DIFFERS ({d.nature}): {d.pair.note or ''}")
                lines += ["  " + _claim_text(claim_dict(fb, c)) for c in (d.pair.left, d.pair.right)]
            lines.append(f"{len(found.noted)} curators' notes on the reports' text:")
            lines += [_claim_text(claim_dict(fb, c)) for c in found.noted]
            return _result(conflicts_dict(fb, found), "\n".join(lines))

    @server.tool(
        title="The reports",
        annotations=READ_ONLY,
        description=(
            "The reports kzrights answers from. Returns {reports: [{id, short, title, publisher, author, published, "
            "covers, url, notes, sections, claims}]}: `covers` is the period each report covers, `url` where to read it."
        ),
    )
    def list_sources() -> Annotated[CallToolResult, SourcesResult]:
        with _tool_errors():
            fb = load()
            rows = source_dicts(fb, queries.sources(fb))
            lines = [
                f"{r['id']}: {r['author']}, {r['title']}, {r['publisher']}, {r['published'] or 'n.d.'}; "
                f"covers {r['covers'] or 'unknown'}; {r['claims']} claims; {r['url'] or 'no URL'}"
                for r in rows
            ]
            return _result({"reports": rows}, "\n".join(lines))

    return server


def serve(facts: str | None = None) -> None:
    """Serve over stdin/stdout until the client closes the connection."""
    import gc
    import sys

    gc.enable()  # the CLI turns it off for short queries; a server lives long
    server = build_server(facts)
    if sys.stdin.isatty():
        sys.stderr.write("kzrights: serving MCP on stdin/stdout for an AI assistant (Ctrl-C to stop)\n")
    server.run("stdio")  # Ctrl-C ends it as it ends any command (entry.py: exit 130)
