"""``--format table``: what a person reads at a terminal, drawn with rich.

rich is imported by this module's functions only, and not at all for ``show`` (a claim is a
plain-text card, ``card.claim_card``). Text from the fact base is never read as markup, and
every segment passes ``safe.clean`` as it is drawn (``draw``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..model import Claim, Entity, EntityReport, Hit, SearchResult
from ..safe import clean

if TYPE_CHECKING:
    from ..factbase import FactBase
    from ..results import Comparison, Conflicts, Listing, Scores, Sources, Stats, Timeline
    from . import View

_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)
KIND_MARK = {"corroborates": "=", "complements": "+", "differs": "≠", "same-event": "~"}


def draw(renderables: Sequence[Any], width: int, color: bool) -> str:
    """rich renderables as text ``width`` columns wide, with colour codes only when ``color``.
    Markup and emoji codes are off, and every text segment passes ``clean`` (the renderers
    clean their text already, so the layout is right; this is the net under them)."""
    import io

    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def _render_buffer(self, buffer: Any) -> str:
            return super()._render_buffer(s if s.control else Segment(clean(s.text), s.style) for s in buffer)

    buffer = io.StringIO()
    console = SafeConsole(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        soft_wrap=False,
        markup=False,
        emoji=False,
    )
    for r in renderables:
        console.print(r)
    # rich pads every line to the width: the spaces at the ends go (a copied line has none)
    return _TRAILING.sub(r"\1", buffer.getvalue())


# --------------------------------------------------------------------------- claims


WIDE = 100  # from this many columns, claims in a table beside their sources; below, in blocks
LEGEND = "= corroborates   + complements   ≠ differs   ~ same event"


def highlight(text: str, query: str | None) -> Any:
    """The claim as rich Text, with the words that match the query (in any spelling) in bold."""
    from rich.text import Text

    t = Text(clean(text))
    if query:
        from ..query import STOPWORDS
        from ..text import fold_word, normalize_text

        keys = {fold_word(w) for w in normalize_text(query).split() if w not in STOPWORDS and len(w) > 1}
        for m in re.finditer(r"\w+", t.plain):
            words = normalize_text(m.group()).split()
            if words and any(fold_word(words[0]).startswith(k) for k in keys if len(k) >= 3 or k == fold_word(words[0])):
                t.stylize("bold yellow", m.start(), m.end())
    return t


def link_summary(fb: FactBase, claim: Claim) -> str:
    """``+1 NIT`` style: how many linked claims in each other report, and whether any differ."""
    counts: dict[str, int] = {}
    differs = False
    for ln, other in fb.related_claims(claim):
        words = fb.reports[other.report].short.split() if other.report in fb.reports else []
        short = words[-2] if len(words) > 1 else other.report
        counts[short] = counts.get(short, 0) + 1
        differs |= ln.kind == "differs"
    parts = [f"+{n} {clean(k)}" for k, n in counts.items()]
    return " ".join(parts) + (" (differs)" if differs else "")


def whole(text: str, style: str = "dim") -> Any:
    """A line that is never broken: an id or a URL, copied whole. Longer than the space, it
    runs on (a terminal wraps it, and a copy gets it whole); a table makes room for it."""
    from rich.text import Text

    return Text(clean(text), style=style, no_wrap=True, overflow="ignore")


def source_line(fb: FactBase, claim: Claim, hit: Hit | None = None, links: bool = True) -> Any:
    """The citation, date, links to the other report and why it matched, on one line."""
    from rich.text import Text

    t = Text(clean(fb.citation(claim)), style="cyan")
    if claim.date:
        t.append(f" · {claim.date}", style="green")
    summary = link_summary(fb, claim) if links else ""
    if summary:
        t.append(f" · {summary}", style="magenta")
    if hit is not None and hit.match is not None:
        t.append(f" · {clean(hit.match.describe())}", style="dim")
    return t


def claim_block(
    view: View, claim: Claim, hit: Hit | None = None, query: str | None = None, source: bool = True, links: bool = True
) -> Any:
    """A claim for reading: its text (query words in bold), the curator's note, the source
    line, the id on a line of its own, and with ``--cite`` the citation."""
    from rich.console import Group

    body = highlight(claim.claim, query)
    if claim.note:
        body.append(f"\nNote: {clean(claim.note)}", style="italic")
    parts = [body]
    if source:
        parts.append(source_line(view.fb, claim, hit, links))
    parts.append(whole(claim.id))
    if view.cite:
        from ..cite import cite_text

        parts.append(whole_text(cite_text(view.fb, claim), "green"))
    return Group(*parts)


def whole_text(text: str, style: str) -> Any:
    """Text that wraps between words only: a URL in it stays whole."""
    from rich.text import Text

    return Text(clean(text), style=style, overflow="ignore")


def _grid(*widths: int | None) -> Any:
    """A table without lines, for rows added with ``_row`` (a blank line between them); a
    column for each width given (None: the rest of the line)."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    for w in widths:
        grid.add_column(width=w, no_wrap=True) if w else grid.add_column(ratio=1)
    return grid


def _row(grid: Any, *cells: Any) -> None:
    if grid.row_count:
        grid.add_row()
    grid.add_row(*cells)


def claims_table(view: View, items: Sequence[Hit | Claim], query: str | None = None, title: str | None = None) -> list[Any]:
    """Claims, numbered: a table of claim and source from ``WIDE`` columns, blocks below."""
    from rich.table import Table
    from rich.text import Text

    fb = view.fb
    out: list[Any] = [Text(clean(title), style="bold")] if title else []
    hits = [(i if isinstance(i, Hit) else None, i.claim if isinstance(i, Hit) else i) for i in items]
    if view.width < WIDE:
        grid = _grid(3, None)
        for n, (hit, claim) in enumerate(hits, 1):
            _row(grid, str(n).rjust(3), claim_block(view, claim, hit, query))
        return [*out, grid]
    table = Table(show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True, width=3)
    table.add_column("Claim", ratio=2)
    table.add_column("Source", ratio=1, style="cyan")
    for n, (hit, claim) in enumerate(hits, 1):
        src = Text(clean(fb.citation(claim)))
        for line, style in ((claim.date, "green"), (link_summary(fb, claim), "magenta")):
            if line:
                src.append(f"\n{line}", style=style)
        if hit is not None and hit.match is not None:
            src.append(f"\n{clean(hit.match.describe())}", style="dim")
        table.add_row(str(n), claim_block(view, claim, query=query, source=False), src)
    return [*out, table]


def _search(view: View, result: SearchResult) -> list[Any]:
    answer = result.answer
    if answer.hits:
        more = " (use --limit for more)" if answer.total > len(answer.hits) else ""
        title = f"{len(answer.hits)} of {answer.total} claims for {answer.query!r}{more}"
        return claims_table(view, answer.hits, answer.query, title)
    if answer.partial:
        title = f"No claim answers {answer.query!r}. Nearest partial matches, not answers (each lacks a query word):"
        return claims_table(view, answer.partial[:5], answer.query, title)
    return []


def entity_panel(entity: Entity) -> Any:
    from rich.text import Text

    t = Text()
    t.append(clean(entity.name), style="bold")
    t.append(clean(f"  ({entity.kind}: {entity.id})"), style="dim")
    for line in (entity.role, entity.category, entity.description):
        if line:
            t.append(f"\n{clean(line)}")
    if entity.aliases:
        t.append("\nAlso: " + clean(", ".join(entity.aliases)), style="dim")
    return t


def _entity(view: View, result: EntityReport) -> list[Any]:
    from rich.text import Text

    rec = result.record
    shown = f"{len(result.claims)} of {result.total}" if len(result.claims) < result.total else str(result.total)
    if isinstance(rec, Entity):
        head = entity_panel(rec)
    else:
        head = Text(clean(f"{rec.label}  (topic: {rec.id})"), style="bold")
        if rec.aliases:
            head.append("\nAlso: " + clean(", ".join(rec.aliases)), style="dim")
    head.append(f"\n{shown} claim(s)" + (" (use --limit for more)" if len(result.claims) < result.total else ""))
    out = [head]
    for rep in view.fb.reports.values():
        mine = [c for c in result.claims if c.report == rep.id]
        if mine:
            out += claims_table(view, mine, title=f"\n{rep.short}: {rep.title} ({len(mine)})")
    return out


def _timeline(view: View, result: Timeline) -> list[Any]:
    """Claims in date order, a heading per year; the date beside each claim."""
    from rich.rule import Rule
    from rich.text import Text

    if not result.claims:
        return []
    out: list[Any] = [whole(f"{len(result.claims)} dated claim(s)", "bold")]
    year, grid = None, None
    for c in result.claims:
        if (c.date or "")[:4] != year:
            year = (c.date or "")[:4]
            grid = _grid(10, None)
            out += [Rule(year, align="left", style="bold"), grid]
        assert grid is not None
        _row(grid, Text(c.date or "", style="green"), claim_block(view, c))
    return out


# --------------------------------------------------------------------------- both reports


Link = tuple[str, int, str | None]  # a link's kind, the index of its left claim, its note
Group = tuple[list[Claim], list[tuple[Claim, list[Link]]]]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _groups(cmp: Comparison) -> list[Group]:
    """The linked pairs as groups: claims joined by links, each claim once. A group is its
    left claims and its right claims, each right claim with every link it has in the group."""
    groups: list[Group] = []
    where: dict[str, int] = {}
    for p in cmp.pairs:
        g = where.get(p.left.id, where.get(p.right.id))
        if g is None:
            g = len(groups)
            groups.append(([], []))
        lefts, rights = groups[g]
        if p.left.id not in where:
            lefts.append(p.left)
        if p.right.id not in where:
            rights.append((p.right, []))
        where[p.left.id] = where[p.right.id] = g
        link = (p.kind, next(i for i, c in enumerate(lefts) if c.id == p.left.id), p.note)
        next(r for r in rights if r[0].id == p.right.id)[1].append(link)
    return groups


def _marks(links: list[Link], lettered: bool) -> str:
    return " ".join(KIND_MARK.get(k, "~") + (f" {chr(97 + i)}" if lettered else "") for k, i, _ in links)


def _side(view: View, claims: list[tuple[Claim, str]], notes: dict[str, list[str]] | None = None) -> Any:
    """Claims of one side of a group, each with its mark (or letter) and the curators' notes
    on its links."""
    from rich.console import Group
    from rich.text import Text

    grid = _grid(max((len(m) for _, m in claims), default=1) or 1, None)
    for claim, mark in claims:
        block = claim_block(view, claim, links=False)
        said = (notes or {}).get(claim.id)
        if said:
            block = Group(block, *[Text(clean(n), style="italic magenta") for n in said])
        _row(grid, Text(mark, style="bold magenta"), block)
    return grid


def _comparison(view: View, cmp: Comparison) -> list[Any]:
    """Each group of linked claims on one row, every claim once (``=`` corroborates, ``+``
    complements, ``≠`` differs: a mark stands before the claim of the right-hand report;
    ``a``, ``b`` tell which left claim it answers when there are several), then each
    report's unlinked claims. Two columns headed by the reports from ``WIDE`` columns;
    below, one after the other."""
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    fb = view.fb
    left, right = fb.reports[cmp.left], fb.reports[cmp.right]
    groups = _groups(cmp)
    head = Text(clean(cmp.subject), style="bold")
    head.append(
        f": {_count(len(groups), 'linked group')} ({_count(len(cmp.pairs), 'link')}), "
        + clean(f"{len(cmp.left_only)} only in {left.short}, {len(cmp.right_only)} only in {right.short}")
    )
    out: list[Any] = [head, whole(f"Links: {LEGEND}", "magenta")]
    sides = []
    for lefts, rights in groups:
        lettered = len(lefts) > 1
        sides.append(
            (
                _side(view, [(c, chr(97 + i) if lettered else "") for i, c in enumerate(lefts)]),
                _side(
                    view,
                    [(c, _marks(links, lettered)) for c, links in rights],
                    {c.id: [f"{kind}: {note}" for kind, _, note in links if note] for c, links in rights},
                ),
            )
        )
    names = (clean(f"{left.short}: {left.title}"), clean(f"{right.short}: {right.title}"))
    if view.width >= WIDE:
        table = Table(show_lines=True, expand=True)
        table.add_column(names[0], ratio=1)
        table.add_column(names[1], ratio=1)
        for a, b in sides:
            table.add_row(a, b)
        if cmp.left_only or cmp.right_only:
            table.add_row(Text("Not linked: each report's own claims", style="bold"), "")
            for i in range(max(len(cmp.left_only), len(cmp.right_only))):
                pair = [cmp.left_only[i : i + 1], cmp.right_only[i : i + 1]]
                table.add_row(*[claim_block(view, c[0]) if c else "" for c in pair])
        return [*out, table]
    for n, (a, b) in enumerate(sides, 1):
        out += [Rule(f"{n}", align="left", style="magenta"), Text(names[0], style="bold"), a, Text(names[1], style="bold"), b]
    for rep, only in ((left, cmp.left_only), (right, cmp.right_only)):
        if only:
            out.append(Rule(clean(f"Only in {rep.short} ({len(only)})"), align="left", style="bold"))
            out += [_side(view, [(c, "•") for c in only])]
    return out


def _nature_count(nature: str, n: int) -> str:
    """``2 real disagreements``, ``1 difference of wording``."""
    return _count(n, "real disagreement") if nature == "disagree" else f"{_count(n, 'difference')} of {nature.rstrip('s')}"


NATURE_TITLE = {
    "disagree": "≠ DISAGREE: the reports say different things",
    "years": "≈ different years: each report speaks of its own year",
    "wording": "≈ wording: the same thing in other words",
    "precision": "≈ precision: one date is more precise than the other",
}


def _conflicts(view: View, found: Conflicts) -> list[Any]:
    """The differences, real disagreements first, each pair under what kind it is and the
    curators' note; then every curator's note on the reports' text. Blocks, at any width."""
    from collections import Counter

    from rich.rule import Rule
    from rich.text import Text

    natures = Counter(d.nature for d in found.differs)
    count = ", ".join(_nature_count(n, natures[n]) for n in NATURE_TITLE if natures[n])
    out: list[Any] = [
        Text(f"Where the reports differ: {_count(len(found.differs), 'pair')}" + (f": {count}" if count else ""), style="bold")
    ]
    nature = None
    for d in found.differs:
        if d.nature != nature:
            nature = d.nature
            out.append(
                Rule(NATURE_TITLE.get(nature, nature), align="left", style="bold magenta" if nature == "disagree" else "magenta")
            )
        else:
            out.append(Text(""))
        out.append(Text(clean(d.pair.note or ""), style="italic"))
        out.append(_side(view, [(d.pair.left, " "), (d.pair.right, " ")]))
    out.append(Rule(f"Curators' notes on the reports' text ({len(found.noted)})", align="left", style="bold"))
    out.append(_side(view, [(c, "•") for c in found.noted]))
    return out


# --------------------------------------------------------------------------- the fact base


def simple_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Any:
    from rich.table import Table

    table = Table(title=clean(title) if title else None, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*[clean(str(x)) for x in r])
    return table


def _listing(view: View, found: Listing) -> list[Any]:
    extra = {"person": "role", "organization": "category"}.get(found.kind)
    cols = ["Name", "id", *([extra.capitalize()] if extra else []), "Claims"]
    rows = []
    for item in found.items:
        rec = item.record
        if isinstance(rec, Entity):
            rows.append([rec.name, rec.id, *([getattr(rec, extra) or ""] if extra else []), item.claims])
        else:
            rows.append([rec.label, rec.id, item.claims])
    return [simple_table(cols, rows)]


def _sources(view: View, found: Sources) -> str:
    rows = [[r.id, f"{r.title} ({r.publisher})", r.author, r.published or "", r.covers or "", n] for r, n in found.reports]
    table = draw([simple_table(["id", "Report", "Author", "Published", "Covers", "Claims"], rows)], view.width, view.color)
    # URLs on lines of their own, so a terminal never breaks one inside the table
    return table + "".join(f"{r.id}: {clean(r.url)}\n" for r, _ in found.reports if r.url)


def _stats(view: View, found: Stats) -> list[Any]:
    rows = [[s.report, s.section, s.claims, s.paragraphs_cited, s.dated] for s in found.sections]
    sections = simple_table(["Report", "Section", "Claims", "Paragraphs cited", "Dated"], rows, title=f"{found.claims} claims")
    summary: list[list[Any]] = [[k, v] for k, v in found.entities.items()] + [["topic", found.topics]]
    summary += [[f"links: {k}", v] for k, v in found.links.items()]
    summary += [["curators' notes", found.notes_by_curators]]
    return [sections, simple_table(["What", "Count"], summary)]


def score_bar(score: float, lo: float, hi: float, width: int = 16) -> str:
    """A bar in eighths of a character: 1.25 and 1.50 on a 1-7 scale look different."""
    if not lo < hi or not lo <= score <= hi:  # the loader refuses such ratings; never divide by zero
        return "".ljust(width, "·")
    eighths = round((score - lo) / (hi - lo) * width * 8)
    full, part = divmod(max(eighths, 1), 8)
    return ("█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")).ljust(width, "·")


def _scores(view: View, found: Scores) -> list[Any]:
    from rich.table import Table

    out = []
    for r in found.ratings:
        rep = view.fb.reports.get(r.report)
        table = Table(title=clean(f"{rep.title if rep else r.report} — {r.status or ''}"), title_justify="left")
        table.add_column("Category")
        table.add_column("Score", justify="right")
        table.add_column(f"{r.scale_min:g} least ─ most {r.scale_max:g}", no_wrap=True)
        table.add_column("Source", style="cyan")
        for c in r.categories:
            table.add_row(
                clean(c.name), f"{c.score:.2f}", score_bar(c.score, r.scale_min, r.scale_max), clean(f"{c.section} ¶{c.para}")
            )
        where = clean(f"{r.section} ¶{r.para}")
        bar = score_bar(r.democracy_score, r.scale_min, r.scale_max)
        table.add_row("Democracy Score", f"{r.democracy_score:.2f}", bar, where, style="bold")
        if r.democracy_percentage is not None:
            table.add_row("Democracy Percentage", f"{r.democracy_percentage:g} / 100", "", where)
        legend = f"{r.scale_min:g} = least democratic, {r.scale_max:g} = most democratic; "
        legend += "Democracy Percentage: 0-100, 100 most democratic."
        if r.previous:
            legend += clean(" Last year: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r.previous.items()) + ".")
        table.caption = legend
        table.caption_justify = "left"
        out.append(table)
    return out


def _claim(view: View, claim: Claim) -> str:
    from .card import claim_card

    return claim_card(view.fb, claim, view.width, view.color)


TABLES: dict[str, Callable[[View, Any], list[Any] | str]] = {
    "SearchResult": _search,
    "EntityReport": _entity,
    "Claim": _claim,
    "Timeline": _timeline,
    "Comparison": _comparison,
    "Conflicts": _conflicts,
    "Listing": _listing,
    "Sources": _sources,
    "Stats": _stats,
    "Scores": _scores,
}


def render(view: View, result: Any) -> str:
    out = TABLES[type(result).__name__](view, result)
    return out if isinstance(out, str) else draw(out, view.width, view.color)
