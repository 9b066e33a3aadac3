"""What a query asks, before any claim is looked at.

A user types a question ("how many protesters were killed in …"), a report's name ("what does
Nations in Transit say about …"), or words in Russian or Kazakh. This module splits a query
into words, keeps each word's original script (Cyrillic words meet the vocabulary in their
own language before they are transliterated), sets aside question scaffolding and the
report's name, and notes what kind of answer a question wants:

- ``wants == "number"``: "how many", "how much", "what percentage", "сколько", "қанша";
- ``wants == "date"``: "when", "what year", "когда", "қашан";
- ``wants == "person"``: "who", "кто", "кім" (a claim naming someone the query does not);
- ``wants == "event"``: "what happened (to)" (a dated claim: something happened then);
- ``wants == "reason"``: "why", "почему", "неге" (a claim that gives a cause: "on the grounds
  that", "because", "accused of", "after").

Nothing here knows the fact base: it is pure text handling, tested on its own.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .text import normalize_text

# English words that carry no content of their own in a query.
STOPWORDS = frozenset(
    """
    a an the of in on at to for and or but by with from as is was were be been being are am it its
    this that these those into about over after before since during than then there their theirs
    they them he she his her him who whom whose which what when where why how not no nor so such
    also has have had having do does did doing done will would can could should may might must shall s
    i me my we us our you your any some all each every other own same very just only more most
    someone somebody anyone anybody something anything ever even still yet get got whole entire
    cannot t d ll ve re m don doesn didn isn wasn aren weren wouldn couldn shouldn hasn haven hadn
    out up down off against upon onto among between via per
    """.split()
)
# Russian and Kazakh function words (compared with the word as written, lower case).
CYRILLIC_STOPWORDS = frozenset(
    """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее её
    мне было вот от меня еще ещё нет о об из ему теперь когда даже ну ли если уже или ни быть был
    была были было него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где
    есть надо ней для мы тебя их чем сам чтобы без будто чего раз тоже себе под будет ж тогда кто
    этот этого какой какая какие каких который которая которые сколько почему зачем про при над
    это эти этой этих этом том тот та те такой также сказано говорится говорит
    және мен бен пен да де та те үшін туралы қалай қашан кім не неше қанша қандай бұл ол осы сол
    ма ме ба бе па пе ғой ғана деген қай неге нені кімді бар жоқ
    после перед между через время течение период год году года годах годы
    кезінде кезде кейін дейін бойынша арқылы уақытында жыл жылы жылғы жылдары
    """.split()
)
# Question scaffolding: set aside wherever it stands. Longest first; each item is a run of
# normalised words and what kind of answer it asks for (None: no preference).
_SCAFFOLDING: tuple[tuple[tuple[str, ...], str | None], ...] = tuple(
    (tuple(phrase.split()), wants)
    for phrase, wants in sorted(
        {
            "how many": "number",
            "how much": "number",
            "what number of": "number",
            "what percentage of": "number",
            "what percentage": "number",
            "what share of": "number",
            "what proportion of": "number",
            "how long": "date",
            "what year": "date",
            "which year": "date",
            "in what year": "date",
            "what date": "date",
            "on what date": "date",
            "when": "date",
            "what happened to": "event",
            "what happened": "event",
            "who": "person",
            "whom": "person",
            "which person": "person",
            "tell me about": None,
            "tell me": None,
            "what do we know about": None,
            "what is known about": None,
            "is there anything about": None,
            "anything about": None,
            "information on": None,
            "information about": None,
            "say about": None,
            "says about": None,
            "said about": None,
            "report on": None,
            "reports on": None,
            "write about": None,
            "writes about": None,
            "mention": None,
            "mentions": None,
            "mentioned": None,
            "according to": None,
            # a modal of permission or ability says no more than "could", a stopword
            "allowed to": None,
            "permitted to": None,
            "able to": None,
            "skolko": "number",  # сколько
            "kogda": "date",  # когда
            "kto": "person",  # кто
            "kim": "person",  # кім
            "qansha": "number",  # қанша
            "neshe": "number",  # неше
            "qashan": "date",  # қашан
            "why": "reason",
            "for what reason": "reason",
            "what was the reason for": "reason",
            "what is the reason for": "reason",
            "pochemu": "reason",  # почему
            "zachem": "reason",  # зачем
            "nege": "reason",  # неге
        }.items(),
        key=lambda kv: -len(kv[0].split()),
    )
)
# A report named in the query narrows the search to that report. Normalised word runs.
REPORT_NAMES: dict[tuple[str, ...], str] = {
    tuple(k.split()): v
    for k, v in {
        "nations in transit": "nit-2021",
        "freedom house": "nit-2021",
        "nit": "nit-2021",
        "foreign policy centre": "fpc-2021",
        "foreign policy center": "fpc-2021",
        "fpc": "fpc-2021",
        "retreating rights": "fpc-2021",
    }.items()
}
_REPORT_FILLER = frozenset({"report", "reports", "the", "say", "says", "said", "does", "do", "did", "s"})
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_KAZAKH_ONLY = re.compile(r"[әғқңөұүһі]")


class Word(NamedTuple):
    """One query word: normalised (Latin) form, the form as typed (lower case), its script."""

    norm: str
    raw: str
    cyrillic: bool
    kazakh: bool  # holds a letter only Kazakh uses


class Query(NamedTuple):
    text: str  # the query as typed, stripped
    words: list[Word]  # every word, scaffolding and report names removed
    content: list[int]  # positions in ``words`` that carry content
    wants: str | None  # "number", "date" or None
    report: str | None  # a report the query names
    months: dict[int, str]  # a month next to a year, by position in ``words``: "2020-05"


def split_words(text: str) -> list[Word]:
    """The query's words, each normalised, remembering its script. A typed token that
    normalises to several words (``Жомарт-Тоқаев``) gives several words."""
    out: list[Word] = []
    for piece in text.split():
        raw = piece.lower()
        for norm, part in _parts(raw):
            cyr = bool(_CYRILLIC.search(part))
            out.append(Word(norm, part, cyr, bool(_KAZAKH_ONLY.search(part))))
    return out


def _parts(raw: str) -> list[tuple[str, str]]:
    norms = normalize_text(raw).split()
    if len(norms) <= 1:
        return [(n, re.sub(r"^\W+|\W+$", "", raw) or raw) for n in norms]
    pieces = [p for p in re.split(r"[^\w.]+", raw) if p]
    if len(pieces) == len(norms):
        return list(zip(norms, pieces, strict=True))
    return [(n, raw) for n in norms]


def _match_run(norms: list[str], i: int, run: tuple[str, ...]) -> bool:
    return tuple(norms[i : i + len(run)]) == run


def analyse(text: str, max_words: int = 32) -> Query:
    """Split ``text`` into words and set aside what is not content."""
    words = split_words(text)[:max_words]
    norms = [w.norm for w in words]
    drop: set[int] = set()
    wants: str | None = None
    report: str | None = None
    for run, rep in sorted(REPORT_NAMES.items(), key=lambda kv: -len(kv[0])):
        for i in range(len(norms)):
            if _match_run(norms, i, run) and not drop & set(range(i, i + len(run))):
                # "the FPC report", "Nations in Transit's": the name and its filler go
                report = rep
                end = i + len(run)
                while end < len(norms) and norms[end] in _REPORT_FILLER:
                    end += 1
                drop.update(range(i, end))
    for run, kind in _SCAFFOLDING:
        for i in range(len(norms)):
            if _match_run(norms, i, run) and not drop & set(range(i, i + len(run))):
                drop.update(range(i, i + len(run)))
                wants = wants or kind
    kept = [w for i, w in enumerate(words) if i not in drop]
    if not kept:  # a query that is all scaffolding ("when", "FPC") is searched as typed
        kept, wants, report = words, None, None if len(words) > 1 else report
    months = month_years(kept)
    content = [i for i, w in enumerate(kept) if not is_stopword(w) or i in months]
    if not content:  # a query of function words only: the longer ones are searched ("when")
        content = [i for i, w in enumerate(kept) if len(w.norm) >= 4]
    return Query(text.strip(), kept, content, wants, report, months)


# Month names, by number: English (and short forms), Russian and Kazakh stems. A month next
# to a year ("May 2020", "в мае 2020") names the claims dated in that month or saying it.
MONTHS = {
    **dict.fromkeys(("january", "jan"), 1),
    **dict.fromkeys(("february", "feb"), 2),
    **dict.fromkeys(("march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    "may": 5,
    **dict.fromkeys(("june", "jun"), 6),
    **dict.fromkeys(("july", "jul"), 7),
    **dict.fromkeys(("august", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("october", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("december", "dec"), 12),
}
_CYRILLIC_MONTHS = (
    ("январ", 1), ("феврал", 2), ("март", 3), ("апрел", 4), ("ма", 5), ("июн", 6), ("июл", 7), ("август", 8),
    ("сентябр", 9), ("октябр", 10), ("ноябр", 11), ("декабр", 12), ("қаңтар", 1), ("ақпан", 2), ("наурыз", 3),
    ("сәуір", 4), ("мамыр", 5), ("маусым", 6), ("шілде", 7), ("тамыз", 8), ("қыркүйек", 9), ("қазан", 10),
    ("қараша", 11), ("желтоқсан", 12),
)  # fmt: skip


def month_of(word: Word) -> int | None:
    """The month a word names, as written in English, Russian or Kazakh (мае, мамырда)."""
    if not word.cyrillic:
        return MONTHS.get(word.norm)
    for stem, number in _CYRILLIC_MONTHS:
        if word.raw.startswith(stem) and (len(stem) > 2 or word.raw in ("май", "мая", "мае")):
            return number
    return None


def month_years(words: list[Word]) -> dict[int, str]:
    """The query's months next to a year ("May 2020", "May of 2020", "мае 2020"), by position,
    as "2020-05"."""
    out: dict[int, str] = {}
    for i, w in enumerate(words):
        month = month_of(w)
        if month is None:
            continue
        for j in (i + 1, i + 2):
            if j < len(words) and len(words[j].norm) == 4 and words[j].norm.isdigit() and words[j].norm[:2] in ("19", "20"):
                if j == i + 1 or words[i + 1].norm == "of":
                    out[i] = f"{words[j].norm}-{month:02d}"
                break
    return out


def is_stopword(word: Word) -> bool:
    if word.cyrillic:
        return word.raw in CYRILLIC_STOPWORDS
    return word.norm in STOPWORDS
