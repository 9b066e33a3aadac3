"""``kzrights browse``: a full-screen finder over both reports, built on Textual.

Only the ``browse`` command imports this module, so no other command pays for Textual. The
finder asks the same core as ``search`` and ``show`` (``FactBase.answer``, ``Filters``,
``citation``, ``related_claims``, ``cite_text``, ``claim_card``): it ranks, separates full
answers from partial matches and cites exactly as they do.

The search box takes words and, anywhere among them, filters: ``report:nit``,
``topic:torture``, ``person:Tulesova``, ``org:DVK``, ``since:2020``, ``until:2020-06``
(a value with spaces in quotes: ``topic:"press freedom"``).

A claim is *selected* once the user moves to it (arrow keys, a click) or opens it (Enter);
typing a new query clears the selection. Quitting with a claim selected returns its text
citation, which the command prints on stdout (``kzrights browse | pbcopy``, as with fzf).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from .cite import cite_text
from .dates import checked_date
from .errors import KzrightsError
from .factbase import FactBase, Filters
from .model import Claim, Hit
from .queries import no_answer_message
from .render.card import claim_card
from .safe import clean

DEBOUNCE = 0.04  # seconds of quiet typing before the results follow (an answer takes ~2 ms)
SHOWN = 300  # most rows in the list; the count above it always gives the whole number
PARTIAL_SHOWN = 10
WIDE = 100  # from this many columns, results and preview side by side; below, stacked

FILTER_KEYS = ("report", "topic", "person", "org", "since", "until")
_FILTER_RE = re.compile(r'(?<!\S)(report|topic|person|org|since|until):(?:"([^"]*)"?|(\S*))', re.IGNORECASE)

# --------------------------------------------------------------------------- the pure part


class Line(NamedTuple):
    """What the search box holds: the query words and the raw filter values."""

    query: str
    filters: dict[str, str]


def parse_line(text: str) -> Line:
    """``Tulesova report:nit since:2020`` -> query ``Tulesova``, filters report and since.

    A later filter of the same key wins; an empty value (``topic:`` while typing) is ignored.
    """
    filters: dict[str, str] = {}
    for m in _FILTER_RE.finditer(text):
        value = (m.group(2) if m.group(2) is not None else m.group(3)).strip()
        if value:
            filters[m.group(1).casefold()] = value
    query = " ".join(_FILTER_RE.sub(" ", text).split())
    return Line(query, filters)


def report_abbrev(fb: FactBase, report_id: str) -> str:
    """``FH NIT 2021`` -> ``NIT``, ``FPC 2021`` -> ``FPC``: a report's name in a few letters,
    or its whole short name where the letters would not tell two reports apart."""
    rep = fb.reports.get(report_id)
    if rep is None:
        return report_id

    def letters(short: str) -> str:
        words = short.split()
        return words[-2] if len(words) > 1 else short

    mine = letters(rep.short)
    if any(letters(r.short) == mine for r in fb.reports.values() if r.id != report_id):
        return rep.short
    return mine


def find_report(fb: FactBase, value: str) -> str:
    """The report a filter value names: its id (``nit-2021``), the id's first part (``nit``),
    its short name (``FH NIT 2021``) or the letters the results show (``NIT``), case aside."""
    v = value.casefold()
    named = [
        rep.id
        for rep in fb.reports.values()
        if v
        in {rep.id.casefold(), rep.id.split("-", 1)[0].casefold(), rep.short.casefold(), report_abbrev(fb, rep.id).casefold()}
    ]
    if len(named) == 1:
        return named[0]
    if named:
        raise KzrightsError(f"report: {value!r} could be {' or '.join(named)}")
    known = ", ".join(rep.id for rep in fb.reports.values())
    raise KzrightsError(f"report: no report {value!r} (known: {known})")


def resolve_filters(fb: FactBase, raw: dict[str, str]) -> tuple[Filters, list[str]]:
    """Filters with every name resolved to its id, and a label for each (``topic: Torture``).

    Raises ``KzrightsError`` with a one-line message naming the filter that does not resolve.
    """
    labels: list[str] = []
    report = person = org = topic = since = until = None
    if "report" in raw:
        report = find_report(fb, raw["report"])
        labels.append(f"report: {report_abbrev(fb, report)}")
    for key, kind in (("person", "person"), ("org", "organization"), ("topic", "topic")):
        if key in raw:
            try:
                tag = fb.resolve(raw[key], (kind,)).tag
            except KzrightsError as exc:
                raise KzrightsError(f"{key}: {exc}") from None
            ref = tag.split(":", 1)[1]
            name = fb.topics[ref].label if kind == "topic" else fb.entity_name(kind, ref)
            labels.append(f"{key}: {name}")
            if key == "person":
                person = ref
            elif key == "org":
                org = ref
            else:
                topic = ref
    for key in ("since", "until"):
        if key in raw:
            checked_date(key, raw[key])
            labels.append(f"{key}: {raw[key]}")
    since, until = raw.get("since"), raw.get("until")
    return Filters(report, person, org, topic, since, until), labels


class Row(NamedTuple):
    """One line of the results: a claim, how it matched, and whether it only matches in part."""

    claim: Claim
    hit: Hit | None = None

    @property
    def partial(self) -> bool:
        return self.hit is not None and not self.hit.full


class Found(NamedTuple):
    """What the box's text finds: rows best first, the count line and any message."""

    rows: list[Row]
    matched: int  # claims that answer the whole query (or pass the filters, for no words)
    scope: int  # claims the filters allow (all claims without filters)
    labels: list[str]  # the filters in force, resolved: "topic: Torture"
    message: str = ""  # why nothing answers, or which filter is wrong
    error: bool = False

    @property
    def count_line(self) -> str:
        """``12 of 90 claims``: the claims that answer, of those the filters allow."""
        return f"{self.matched} of {self.scope} claims"


def find(fb: FactBase, text: str, scope_cache: dict[Filters, int] | None = None) -> Found:
    """Everything the finder shows for the box's text, with the same rule as ``search``:
    full answers, best first; only when none, the nearest partial matches, labelled."""
    line = parse_line(text)
    try:
        filters, labels = resolve_filters(fb, line.filters)
        scope = len(fb)
        if filters.active():
            cache = scope_cache if scope_cache is not None else {}
            if filters not in cache:
                cache[filters] = len(fb.select(filters))
            scope = cache[filters]
        if not line.query:
            claims = fb.select(filters)
            return Found([Row(c) for c in claims], len(claims), scope, labels)
        answer = fb.answer(line.query, filters, None)
    except KzrightsError as exc:
        return Found([], 0, 0, [], " ".join(exc.lines()), error=True)
    if answer.hits:
        return Found([Row(h.claim, h) for h in answer.hits], answer.total, scope, labels)
    message = no_answer_message(answer, filters.active()) + "."
    if answer.suggestions:
        message += f" Did you mean: {'; '.join(answer.suggestions)}?"
    rows = [Row(h.claim, h) for h in answer.partial[:PARTIAL_SHOWN]]
    if rows:
        message += " Nearest partial matches (marked ~), not answers:"
    return Found(rows, 0, scope, labels, message)


def row_text(fb: FactBase, row: Row, current: bool) -> Text:
    """A result on one line: a cursor mark (not colour alone), ``~`` for a partial match,
    the report and paragraph, then the claim."""
    c = row.claim
    mark = ("▶" if current else " ") + ("~" if row.partial else " ")
    t = Text(f"{mark}{report_abbrev(fb, c.report)} ¶{c.para:<3}", no_wrap=True, overflow="ellipsis", end="")
    t.append(clean(c.claim), style="bold" if current else "")
    return t


def _label_list(fb: FactBase, kind: str, refs: tuple[str, ...]) -> str:
    return ", ".join(clean(fb.entity_name(kind, r)) for r in refs)


LINK_MARKS = {"corroborates": "=", "complements": "+", "differs": "≠", "same-event": "≈"}


def preview(fb: FactBase, row: Row) -> Text:
    """The selected claim: text, citation (report, section ¶, notes), date, people,
    organisations, places, topics, why it matched, the report with the link to the passage
    (or the report's URL) and the notes with their URLs, and linked claims of the other
    report, the ones that differ marked in words as well as with ≠. What a small screen
    must show comes first; the long URLs after."""
    t = Text()
    _preview_claim(t, fb, row)
    _preview_source(t, fb, row.claim)
    _preview_links(t, fb, row.claim)
    t.append(f"\n\nid: {clean(row.claim.id)}", style="dim")
    return t


def _field(t: Text, label: str, value: str, style: str = "") -> None:
    t.append(f"\n{label}: ", style="bold")
    t.append(value, style=style)


def _preview_claim(t: Text, fb: FactBase, row: Row) -> None:
    """The claim, its citation and date, the names and topics, why it matched."""
    c, hit = row.claim, row.hit
    t.append(clean(c.claim), style="bold")
    t.append("\n")
    _field(t, "Citation", clean(fb.citation(c)))
    _field(t, "Date", c.date or "undated")
    for label, refs, kind in (
        ("People", c.people, "person"),
        ("Organisations", c.organizations, "organization"),
        ("Places", c.places, "place"),
    ):
        if refs:
            _field(t, label, _label_list(fb, kind, refs))
    if c.topics:
        _field(t, "Topics", ", ".join(clean(fb.topics[x].label) for x in c.topics if x in fb.topics))
    if hit is not None and hit.missing:
        _field(t, "Partial match, lacks", ", ".join(clean(w) for w in hit.missing))
    elif hit is not None and hit.match is not None:
        _field(t, "Matched", clean(hit.match.describe()))


def _preview_source(t: Text, fb: FactBase, c: Claim) -> None:
    """The report, the link to the passage (or the report's URL), the notes with their URLs,
    the curator's note."""
    rep = fb.reports.get(c.report)
    if rep:
        _field(t, "Source", clean(", ".join(p for p in (rep.author, f"“{rep.title}”", rep.publisher, rep.published or "") if p)))
    passage = fb.passage_url(c)
    if passage and rep is not None and passage != rep.url:
        t.append("\n  Passage: " + clean(passage))  # the report's page, scrolled to the passage
    elif passage:
        t.append("\n  Report: " + clean(passage))
    for n in fb.notes_of(c):
        style = rep.note_style if rep else "note"
        t.append(f"\n  [{n.n}] " + clean(n.text or f"{style} {n.n} (its text is not in the fact base)"))
    if c.note:
        _field(t, "Curator's note", clean(c.note), "italic")


def _preview_links(t: Text, fb: FactBase, c: Claim) -> None:
    """Linked claims, those of the other report first; one that differs says so in words."""
    links = fb.related_claims(c)
    other = [(ln, o) for ln, o in links if o.report != c.report]
    same = [(ln, o) for ln, o in links if o.report == c.report]
    for title, group in (("In the other report", other), ("Linked in the same report", same)):
        if not group:
            continue
        t.append(f"\n\n{title}:", style="bold")
        for ln, o in group:
            kind = "DIFFERS" if ln.kind == "differs" else ln.kind
            t.append(f"\n {LINK_MARKS.get(ln.kind, '≈')} {kind}: ", style="bold" if ln.kind == "differs" else "")
            t.append(clean(fb.citation(o)))
            t.append("\n   " + clean(o.claim))
            if ln.note:
                t.append("\n   Note: " + clean(ln.note), style="italic")


def open_target(fb: FactBase, claim: Claim) -> tuple[str, str] | None:
    """The URL ``o`` opens and what it is: the link to the passage (``FactBase.passage_url``:
    the report's page, scrolled to the passage where its link words are known), else the
    first source the passage cites (its note's URL); ``None`` without any."""
    url = fb.passage_url(claim)
    rep = fb.reports.get(claim.report)
    if url and (rep is None or url != rep.url):
        return url, f"the passage ({fb.citation(claim)})"
    if url:
        return url, f"the report ({report_abbrev(fb, claim.report)}; the passage is section {claim.section!r}, ¶{claim.para})"
    for n in fb.notes_of(claim):
        if n.urls:
            return n.urls[0], f"the source of note [{n.n}] (the report itself has no URL in the fact base)"
    return None


def _can_show_browser() -> bool:
    """A GUI browser opens beside the terminal; a console one (lynx, w3m) needs the terminal,
    so the finder steps aside while it runs."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_url(url: str) -> bool:
    import webbrowser

    return webbrowser.open(url)


# --------------------------------------------------------------------------- widgets


class ResultList(OptionList):
    """The results. ↑ on the first row goes back to the search box; letters the list has no
    key for go to the search box, so typing never needs a Tab first."""

    def action_cursor_up(self) -> None:
        if self.highlighted in (None, 0):
            self.screen.query_one("#search", Input).focus()
            return
        super().action_cursor_up()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.character not in "copq/":
            box = self.screen.query_one("#search", Input)
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()


class CitationScreen(ModalScreen[None]):
    """The citation just copied, to read or select by hand where OSC 52 does not reach."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q,c", "dismiss", "Close", key_display="Esc")]
    DEFAULT_CSS = """
    CitationScreen { align: center middle; }
    CitationScreen > VerticalScroll { width: 90%; max-height: 80%; height: auto; border: heavy $accent; padding: 0 1; }
    """

    def __init__(self, citation: str) -> None:
        super().__init__()
        self.citation = citation

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Citation copied"
            yield Static(
                Text(
                    "Copied with OSC 52 where the terminal allows it. If it did not reach your clipboard, "
                    "select the text below (Shift+drag in most terminals); it is also printed when you quit.\n\n"
                )
                + Text(clean(self.citation)),
                id="citation",
            )
        yield Footer()


class ClaimScreen(Screen[None]):
    """One claim in full (as ``kzrights show`` prints it), with its citation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back", key_display="Esc"),
        Binding("c", "app.copy_citation", "Copy citation"),
        Binding("o", "app.open_passage", "Open"),
        Binding("p", "app.person", "Person"),
    ]

    def __init__(self, fb: FactBase, claim: Claim) -> None:
        super().__init__()
        self.fb, self.claim = fb, claim

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="full") as box:
            box.border_title = f"Claim · {clean(self.fb.citation(self.claim))}"
            width = max(self.app.size.width - 4, 30)
            body = Text(f"Citation: {self.fb.citation(self.claim)}\n\n")
            body.append(claim_card(self.fb, self.claim, width))
            body.append("\nTo cite:\n" + clean(cite_text(self.fb, self.claim)))
            yield Static(body)
        yield Footer()


class PersonScreen(Screen[str | None]):
    """A person's profile: name, spellings, role, and their claims; Enter goes to a claim."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss_none", "Back", key_display="Esc")]

    def __init__(self, fb: FactBase, person_id: str) -> None:
        super().__init__()
        self.fb, self.person_id = fb, person_id
        tag = f"person:{person_id}"
        self.claims = sorted(fb.claims_of(tag), key=lambda c: (c.report, c.date or "9999", c.id))
        self._current: int | None = None

    def compose(self) -> ComposeResult:
        e = self.fb.entities[f"person:{self.person_id}"]
        head = Text(clean(e.name), style="bold")
        if e.role:
            head.append(" — " + clean(e.role))
        if e.aliases:
            head.append("\nAlso written: " + ", ".join(clean(a) for a in e.aliases))
        if e.description:
            head.append("\n" + clean(e.description))
        by_report = {r: sum(1 for c in self.claims if c.report == r) for r in self.fb.reports}
        head.append(
            f"\n{len(self.claims)} claims: " + ", ".join(f"{n} in {report_abbrev(self.fb, r)}" for r, n in by_report.items() if n)
        )
        with Container(id="profile"):
            yield Static(head, id="person-head")
            results = OptionList(*[Option(row_text(self.fb, Row(c), False), id=c.id) for c in self.claims], id="person-claims")
            results.border_title = f"Claims about {clean(e.name)} ({len(self.claims)}) · Enter: go to the claim"
            yield results
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#person-claims", OptionList).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        claims = event.option_list
        if self._current is not None and self._current != event.option_index:
            claims.replace_option_prompt_at_index(self._current, row_text(self.fb, Row(self.claims[self._current]), False))
        self._current = event.option_index
        claims.replace_option_prompt_at_index(self._current, row_text(self.fb, Row(self.claims[self._current]), True))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class PickPersonScreen(ModalScreen[str | None]):
    """Which of a claim's people: Enter picks, Esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss_none", "Back", key_display="Esc")]
    DEFAULT_CSS = """
    PickPersonScreen { align: center middle; }
    PickPersonScreen > OptionList { width: 60; max-height: 70%; height: auto; border: heavy $accent; }
    """

    def __init__(self, fb: FactBase, people: tuple[str, ...]) -> None:
        super().__init__()
        self.fb, self.people = fb, people

    def compose(self) -> ComposeResult:
        pick = OptionList(*[Option(Text(clean(self.fb.entity_name("person", p))), id=p) for p in self.people])
        pick.border_title = "Which person? Enter to open"
        yield pick
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- the finder


class BrowseScreen(Screen[None]):
    """Search box, count, results and preview. The arrows, Enter, Tab and Esc are priority
    keys here so that they work (and show in the footer) whichever pane has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Move", key_display="↑", priority=True, group=Binding.Group("Move", compact=True)),
        Binding("down", "move(1)", "Move", key_display="↓", priority=True, group=Binding.Group("Move", compact=True)),
        Binding("enter", "app.full_claim", "Full claim", key_display="Enter", priority=True),
        Binding("c", "app.copy_citation", "Copy"),
        Binding("o", "app.open_passage", "Open"),
        Binding("p", "app.person", "Person"),
        Binding("tab", "app.focus_next", "Focus", key_display="Tab", priority=True),
        Binding("shift+tab", "app.focus_previous", "Focus back", show=False, priority=True),
        Binding("escape", "app.finish", "Quit", key_display="Esc/q", priority=True),
        Binding("q", "app.finish", "Quit", show=False),
        Binding("slash", "search_box", "Search", show=False),
    ]

    def compose(self) -> ComposeResult:
        app = self.app
        assert isinstance(app, BrowseApp)
        with Horizontal(id="search-row"):
            yield Static("Search:", id="search-label")
            yield Input(
                value=app.initial_query,
                placeholder="words, names, filters: report:nit topic:torture person:… since:2020 until:2020-06",
                id="search",
                compact=True,
                select_on_focus=False,
            )
        yield Static("", id="status")
        with Container(id="body"):
            results = ResultList(id="results")
            results.border_title = "Results"
            yield results
            with VerticalScroll(id="preview-pane") as pane:
                pane.border_title = "Preview"
                yield Static("", id="preview")
        yield Footer()

    def action_move(self, step: int) -> None:
        results = self.query_one("#results", ResultList)
        focused = self.focused
        if isinstance(focused, VerticalScroll):  # the preview: the arrows scroll it
            (focused.scroll_down if step > 0 else focused.scroll_up)()
            return
        if not results.option_count:
            return
        if focused is not results:  # from the search box: into the list, at its highlighted row
            self.set_focus(results)  # at once, so a second ↓ already typed moves in the list
            if results.highlighted is None:
                results.highlighted = 0
            if step < 0:
                results.highlighted = results.option_count - 1
            app = self.app
            assert isinstance(app, BrowseApp)
            app.select_highlighted()
            return
        if step > 0:
            results.action_cursor_down()
        else:
            results.action_cursor_up()

    def on_mount(self) -> None:
        app = self.app
        assert isinstance(app, BrowseApp)
        app.started()

    def action_search_box(self) -> None:
        self.query_one("#search", Input).focus()


class BrowseApp(App[str]):
    """The finder. ``run()`` returns the text citation of the selected claim, or ``None``."""

    TITLE = "kzrights browse"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+c", "abort", "Abort", show=False, priority=True)]
    CSS = """
    #search-row { height: 1; }
    #search-label { width: 9; padding: 0 0 0 1; text-style: bold; }
    #search { width: 1fr; }
    #status { height: auto; max-height: 3; padding: 0 1; text-style: bold; }
    #body { height: 1fr; layout: vertical; }
    #results { height: 9; text-wrap: nowrap; text-overflow: ellipsis; border: none; border-top: solid $secondary; padding: 0; }
    #preview-pane { height: 1fr; border: none; border-top: solid $secondary; padding: 0 1; }
    .wide #body { layout: horizontal; }
    .wide #results { height: 1fr; width: 45%; border-right: solid $secondary; }
    .wide #preview-pane { width: 1fr; }
    #results:focus, #preview-pane:focus { border-top: heavy $accent; }
    #full { border-top: heavy $accent; padding: 0 1; }
    #profile { height: 1fr; }
    #person-head { height: auto; max-height: 8; padding: 0 1; }
    #person-claims { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; border: none; border-top: heavy $accent; }
    OptionList > .option-list--option-highlighted { text-style: bold; }
    """

    def __init__(self, fb: FactBase, query: str = "", opener: Callable[[str], bool] | None = None) -> None:
        super().__init__()
        self.fb = fb
        self.initial_query = query
        self.opener = opener or _open_url
        self.rows: list[Row] = []
        self.found: Found | None = None
        self.selected: Claim | None = None
        self._highlight: int | None = None
        self._timer: Timer | None = None
        self._scope_cache: dict[Filters, int] = {}

    def get_driver_class(self) -> type[Driver]:
        """Textual's POSIX driver draws on stderr but asks stdout for the screen's size, which
        is wrong when stdout is a pipe (``kzrights browse | pbcopy``): ask stderr."""
        driver = super().get_driver_class()
        if driver.__name__ != "LinuxDriver":  # Windows, or a driver chosen in the environment
            return driver
        from textual.drivers.linux_driver import LinuxDriver

        class StderrSizedDriver(LinuxDriver):
            def _get_terminal_size(self) -> tuple[int, int]:
                try:
                    size = os.get_terminal_size(sys.__stderr__.fileno())  # type: ignore[union-attr]
                except (AttributeError, ValueError, OSError):
                    return super()._get_terminal_size()
                return size.columns or 80, size.lines or 24

        return StderrSizedDriver

    def get_default_screen(self) -> Screen[None]:
        self.finder = BrowseScreen()
        return self.finder

    # -- layout and focus

    def started(self) -> None:
        """Called by the finder once mounted: the first results, the search box focused."""
        self._apply_width(self.size.width)
        self.refresh_results()
        self.finder.query_one("#search", Input).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.finder.set_class(width >= WIDE, "wide")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # the focused pane is named in words in its title, not only by a brighter border
        for wid, name in (("#results", "Results"), ("#preview-pane", "Preview")):
            for w in self.finder.query(wid):
                w.border_title = (f"» {name} «" if w is event.widget else name) + self._title_suffix(wid)

    def _title_suffix(self, wid: str) -> str:
        if wid == "#results" and self._highlight is not None:
            more = f", first {SHOWN} shown" if self.found is not None and len(self.found.rows) > SHOWN else ""
            return f" · row {self._highlight + 1} of {len(self.rows)}{more}"
        if wid == "#preview-pane" and self._current() is not None:
            cur = self._current()
            assert cur is not None
            return f" · {clean(self.fb.citation(cur.claim))}"
        return ""

    def _retitle(self) -> None:
        focused = self.finder.focused
        for wid, name in (("#results", "Results"), ("#preview-pane", "Preview")):
            for w in self.finder.query(wid):
                w.border_title = (f"» {name} «" if w is focused else name) + self._title_suffix(wid)

    # -- results

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "search":
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self.refresh_results)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    def refresh_results(self) -> None:
        """Run the box's text through the core and redraw the list, count and preview."""
        self._timer = None
        try:
            text = self.finder.query_one("#search", Input).value
        except NoMatches:  # the finder is gone: the app is closing
            return
        found = find(self.fb, text, self._scope_cache)
        self.found = found
        self.rows = found.rows[:SHOWN]
        self.selected = None
        status = found.count_line
        if found.labels:
            status += " · " + " · ".join(clean(label) for label in found.labels)
        if found.message:
            status = ("Filter problem: " if found.error else f"{status}. ") + clean(found.message)
        self.finder.query_one("#status", Static).update(Text(status))
        results = self.finder.query_one("#results", ResultList)
        self._highlight = 0 if self.rows else None
        results.set_options([Option(row_text(self.fb, r, i == 0), id=str(i)) for i, r in enumerate(self.rows)])
        if self.rows:
            results.highlighted = 0
        self._show_preview()

    def _current(self) -> Row | None:
        if self._highlight is None or not 0 <= self._highlight < len(self.rows):
            return None
        return self.rows[self._highlight]

    def _show_preview(self) -> None:
        row = self._current()
        box = self.finder.query_one("#preview", Static)
        if row is None:
            found = self.found
            if found is not None and found.error:
                box.update(Text(clean(found.message) + "\n\nFilters: " + " ".join(f"{k}:…" for k in FILTER_KEYS)))
            else:
                box.update(Text("Nothing to show: no claim matches." if found and found.message else ""))
        else:
            box.update(preview(self.fb, row))
            self.finder.query_one("#preview-pane", VerticalScroll).scroll_home(animate=False)
        self._retitle()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "results" or event.option.id is None:
            return
        i = int(event.option.id)
        results = event.option_list
        old = self._highlight
        if old is not None and old != i and 0 <= old < len(self.rows):
            results.replace_option_prompt(str(old), row_text(self.fb, self.rows[old], False))
        self._highlight = i
        results.replace_option_prompt(str(i), row_text(self.fb, self.rows[i], True))
        if results.has_focus:  # the user moved: that claim is now the selection
            self.selected = self.rows[i].claim
        self._show_preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # a click: the claim becomes the selection (Enter, a priority key, opens it in full)
        if event.option_list.id == "results":
            self.select_highlighted()

    def select_highlighted(self) -> Claim | None:
        row = self._current()
        self.selected = row.claim if row else None
        return self.selected

    # -- actions

    def _target(self) -> Claim | None:
        """The claim an action applies to: the one on screen (a full claim) or the highlighted."""
        if isinstance(self.screen, ClaimScreen):
            return self.screen.claim
        if isinstance(self.screen, BrowseScreen):
            return self.select_highlighted()
        return self.selected

    def _target_or_say(self, title: str, message: str = "No claim selected.") -> Claim | None:
        """``_target``, or None after saying that there is none (``title``, ``message``)."""
        claim = self._target()
        if claim is None:
            self.notify(message, title=title)
        return claim

    def action_full_claim(self) -> None:
        if not isinstance(self.screen, BrowseScreen):
            return
        claim = self._target_or_say("Nothing selected", "No claim to open: type a query that finds one.")
        if claim is None:
            return
        self.push_screen(ClaimScreen(self.fb, claim))

    def action_copy_citation(self) -> None:
        claim = self._target_or_say("Nothing to copy")
        if claim is None:
            return
        citation = cite_text(self.fb, claim)
        self.copy_to_clipboard(citation)
        self.push_screen(CitationScreen(citation))

    def action_open_passage(self) -> None:
        claim = self._target_or_say("Nothing to open")
        if claim is None:
            return
        target = open_target(self.fb, claim)
        if target is None:
            self.notify("Neither the report nor this passage's notes have a URL.", title="Nothing to open")
            return
        url, what = target
        try:
            if _can_show_browser():
                ok = self.opener(url)
            else:
                with self.suspend():
                    ok = self.opener(url)
        except SuspendNotSupported:
            ok = self.opener(url)
        if ok:
            self.notify(f"Opened {what}: {clean(url)}", title="Opened in the browser")
        else:
            self.notify(f"No browser found. The URL of {what}: {clean(url)}", title="Could not open", severity="warning")

    def action_person(self) -> None:
        claim = self._target_or_say("No person")
        if claim is None:
            return
        if not claim.people:
            self.notify("This claim names no person.", title="No person")
            return
        if len(claim.people) == 1:
            self._open_person(claim.people[0])
        else:
            self.push_screen(PickPersonScreen(self.fb, claim.people), self._open_person)

    def _open_person(self, person_id: str | None) -> None:
        if person_id:
            self.push_screen(PersonScreen(self.fb, person_id), self._go_to_claim)

    def _go_to_claim(self, claim_id: str | None) -> None:
        """From a profile: the finder filtered to that person, the chosen claim selected."""
        if not claim_id:
            return
        for _ in range(len(self.screen_stack) - 1):  # the profile is gone; anything else above too
            if isinstance(self.screen, BrowseScreen):
                break
            self.pop_screen()
        claim = self.fb.claim(claim_id)
        person = next((p for p in claim.people), None)
        box = self.finder.query_one("#search", Input)
        with box.prevent(Input.Changed):
            box.value = f"person:{person}" if person else claim_id
        self.refresh_results()
        i = next((k for k, r in enumerate(self.rows) if r.claim.id == claim_id), None)
        results = self.finder.query_one("#results", ResultList)
        results.focus()
        if i is not None:
            results.highlighted = i
            self.selected = claim

    def action_abort(self) -> None:
        """Ctrl+C: leave at once, printing nothing (exit 130, as fzf)."""
        self.exit(None, return_code=130)

    def action_finish(self) -> None:
        """Esc or q: back from a full claim or profile; from the finder, quit with the
        selected claim's citation (nothing without a selection)."""
        if not isinstance(self.screen, BrowseScreen):
            self.pop_screen()
            return
        self.exit(cite_text(self.fb, self.selected) if self.selected is not None else None)


def run_browser(fb: FactBase, query: str = "") -> tuple[str | None, int]:
    """Run the finder on the terminal: the selected claim's citation (or ``None``) and the
    exit code (0, or 130 after Ctrl+C)."""
    import gc

    gc.enable()  # the CLI turns the collector off for short queries; a session is not short
    app = BrowseApp(fb, query)
    citation = app.run()
    return citation, app.return_code or 0
