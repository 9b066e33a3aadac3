"""The search index (built once per fact-base edit) and ranking (run per query).

A claim *answers* a query when every content word of the query (question scaffolding and a
named report set aside, see ``query.py``) is held by that claim, in one of these ways:

- the word itself, as written, folded (Mamay/Mamai), by prefix or by stem (arrested ~ arrest);
- a curated synonym or translation: the word (or a phrase of the query) is a term of a
  concept of ``facts/vocabulary.yaml`` or a topic's label in any language, and the claim holds
  another term of it or is tagged with its topic;
- the claim's own lay search terms (``terms`` in its fact file);
- the name or alias of an entity or topic the claim is tagged with;
- a typo of any of these; a typo of a *name* counts only when the rest of the query agrees
  (so a made-up name never stands in for a real one).

Claims that answer the query come in tiers, best first (``TIERS``):

- ``phrase``: the whole query appears as a phrase in the claim (or is the claim's id);
- ``named``: the whole query is a name or alias of an entity or topic the claim is tagged with;
- ``all-words``: every content word is held;
- ``all-but-one``: a query of three or more content words, of which the claim holds all
  but one, where that one is a word the reports use elsewhere (not a name or figure) and
  the query names an entity the claim is tagged with, a proper noun it holds, or has four
  or more content words (see ``_all_but_one``).

Claims that hold only some words are ``partial`` (tier 0): never an answer, shown apart.
Within a tier a claim scores by the share of the query it holds, each word weighted by how
rare it is (idf: a place, a year or a name outweighs a common word) and by how well it
matched, with a bonus for words in the claim's own text, and, for a question, for what the
question asks: a figure for "how many", a date for "when".
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from .query import STOPWORDS, Query, Word, analyse
from .store import (
    ENTITY_DESCRIPTION,
    ENTITY_ROLE,
    TOPIC_DESCRIPTION,
    Row,
    Store,
    as_store,
    pack,
    unpack,
)
from .text import fold_key, fold_word, normalize_text

__all__ = ["Searcher", "pack", "resolve_name", "unpack"]

MAX_QUERY_WORDS = 32  # a pasted paragraph is searched by its first words, not rejected
MAX_SPAN = 6  # the longest entity name, in words, looked for inside a query
MAX_TERM_WORDS = 5  # the longest vocabulary term, in words
BUCKET = 2  # Russian and Kazakh terms are looked up by their first two letters
FUZZY_MIN_LEN = 5
TIER_PHRASE, TIER_NAMED, TIER_ALL_WORDS, TIER_ALL_BUT_ONE, TIER_PARTIAL = 4, 3, 2, 1, 0
TIERS = {
    TIER_PHRASE: "phrase",
    TIER_NAMED: "named",
    TIER_ALL_WORDS: "all-words",
    TIER_ALL_BUT_ONE: "all-but-one",
    TIER_PARTIAL: "partial",
}
TIER_BASE = {4: 85.0, 3: 70.0, 2: 50.0, 1: 35.0, 0: 0.0}
TIER_SPAN = {4: 15.0, 3: 15.0, 2: 20.0, 1: 15.0, 0: 35.0}
MIN_PARTIAL_COVERAGE = 0.25
STEM_WEIGHT = 0.85  # a word sharing its stem with the query's counts as held
SYNONYM_WEIGHT = 0.85  # a vocabulary synonym or translation
TERM_WEIGHT = 0.9  # a claim's own lay search term
TOPIC_ONLY_WEIGHT = 0.8  # a concept held only through the claim's topic tag
# the parts of a claim's place within its tier (see Searcher._within)
W_COVERAGE, W_TEXT, W_WANTS, W_BREVITY = 0.6, 0.25, 0.15, 0.05


class Ranked(NamedTuple):
    """One ranked claim, by its position in the compiled fact base."""

    position: int
    score: float
    tier: int
    match: tuple[str, str, str] | None  # (field, via, form)
    missing: tuple[str, ...] = ()  # query words this claim lacks (partial matches only)


class Ranking(NamedTuple):
    """What ``Searcher.answer`` found: full answers, partial ones, and why."""

    full: list[Ranked]
    partial: list[Ranked]
    missing: tuple[str, ...]  # query words no claim holds
    suggestions: tuple[str, ...]  # names the query may have meant (a typo of a name)
    report: str | None  # a report the query itself named
    total: int | None = None  # claims that answer in full, when ``full`` holds only the best of them
    counted: bool = True  # False: ``full`` holds only the best, and they were not counted


# credit for one query word in one claim: (weight, field, via, form, a typo of a name)
Credit = tuple[float, str, str, str, bool]
# how ``Searcher._sources`` is told that a list of claims holds a query word: add(word, claims, credit)
_Add = Callable[[int, "array[int]", Credit], None]


DECADE_WORDS = {
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
    "seventies": 70, "eighties": 80, "nineties": 90, "noughties": 0,
}  # fmt: skip
DECADE_PARTS = {"early": (0, 4), "mid": (3, 7), "middle": (3, 7), "late": (5, 9)}
_DECADE = re.compile(r"(1[89]|20)?(\d)0s")


def decades(words: Sequence[Word]) -> dict[tuple[int, ...], tuple[int, int]]:
    """Decades the query names, by the positions of their words: the years each covers.
    "the 1990s", "the 90s", "the nineties" (or a typo of it: "ninetees") cover 1990-1999; an
    "early", "mid" or "late" before them narrows the years and is part of the expression."""
    out: dict[tuple[int, ...], tuple[int, int]] = {}
    for p, w in enumerate(words):
        m = _DECADE.fullmatch(w.norm)
        if m:
            start = int(m.group(1) or ("20" if m.group(2) in "012" else "19")) * 100 + int(m.group(2)) * 10
        elif w.norm.isalpha() and len(w.norm) >= 6 and w.norm.endswith(("ies", "ees", "is", "es")):
            # the word or a typo of it: one edit away (two for long words); no fuzzy library
            # is imported for this, a query pays nothing for decades it does not name
            near = [d for d in DECADE_WORDS if _within_edits(w.norm, d, 1 if len(d) < 8 else 2)]
            if not near:
                continue
            tens = DECADE_WORDS[near[0]]
            start = (2000 if tens == 0 else 1900) + tens
        else:
            continue
        lo, hi = start, start + 9
        ps: tuple[int, ...] = (p,)
        if p and words[p - 1].norm in DECADE_PARTS:
            a, b = DECADE_PARTS[words[p - 1].norm]
            lo, hi, ps = start + a, start + b, (p - 1, p)
        out[ps] = (lo, hi)
    return out


def _within_edits(a: str, b: str, most: int) -> bool:
    """Whether ``a`` becomes ``b`` in at most ``most`` insertions, deletions or substitutions."""
    if abs(len(a) - len(b)) > most:
        return False
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1] <= most


def _shares_stem(a: str, b: str) -> bool:
    """Whether two words are one word's forms: they share their first six letters, or both
    are eight letters long or more (and share the five a stem look-up starts from)."""
    common = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return common >= 6 or min(len(a), len(b)) >= 8


class Searcher:
    """Ranks the claims of one compiled fact base against queries."""

    def __init__(self, data: Store | dict[str, Any]):
        self.store = as_store(data)
        self._named: set[int] = set()  # claims tagged with an entity the last query names
        self._name_pos: set[int] = set()  # positions of the last query's words that name a thing
        self._common: dict[str, bool] = {}  # word -> whether one claim in five holds it
        self._query_people: set[str] = set()  # people the last query names
        self._corrected: dict[int, str] = {}  # the last query's typos, as the reports write the words

    @property
    def name_words(self) -> Any:
        """The words of people's names (``w in name_words``)."""
        return self.store.name_words

    @property
    def proper_words(self) -> Any:
        """Proper nouns the reports write ("QazVac", "Kazakhgate"): ``w in proper_words``."""
        return self.store.proper_words

    # -- vocabulary look-ups -------------------------------------------------------------

    def _word_keys(self, word: str, fuzzy: bool = True) -> list[tuple[str, float, str]]:
        """Index keys that match one query word: (key, weight, via)."""
        key = fold_word(word)
        out: list[tuple[str, float, str]] = []
        if self.store.has_word(key):
            out.append((key, 1.0, "word"))
        if re.fullmatch(r"[\d.]+", word):
            return out  # numbers match exactly or not at all
        if len(key) >= 4:  # prefix: "photo" finds "photos", "registr" finds "registration"
            self._prefix_keys(key, out)
        if len(key) >= 5:  # same stem: "arrested" finds "arrest", "abolished" finds "abolition"
            self._stem_keys(key, out)
        if not out and 4 <= len(key) <= 6 and key.isalpha():  # a clipped word: "tech", "info", "admin"
            self._prefix_keys(key, out, clipped=True)
        if fuzzy and len(key) >= FUZZY_MIN_LEN and not out:  # typo tolerance, only where nothing matched as written
            out += self._typos(key)
        return out

    def _prefix_keys(self, key: str, out: list[tuple[str, float, str]], clipped: bool = False) -> None:
        """Add to ``out`` the words of the index that extend ``key``, until ``out`` holds 40 keys
        (``clipped``: ``key`` is a word no claim holds, read as the start of a longer one)."""
        for cand in self.store.vocab_from(key):
            if not cand.startswith(key) or len(out) >= 40:
                break
            # a short key extends only a little ("parti" finds "parties", not "participation")
            if cand != key and (clipped or len(key) >= 7 or len(cand) - len(key) <= 4):
                out.append((cand, 0.8 if clipped else 0.9, "prefix"))

    def _stem_keys(self, key: str, out: list[tuple[str, float, str]]) -> None:
        """Add to ``out`` the words of the index that share a long enough start with ``key``
        (but do not extend it: see ``_prefix_keys``), until ``out`` holds 60 keys."""
        stem = key[:5]
        for cand in self.store.vocab_from(stem):
            if not cand.startswith(stem) or len(out) >= 60:
                break
            if cand != key and not cand.startswith(key) and _shares_stem(key, cand):
                out.append((cand, STEM_WEIGHT, "stem"))

    def _typos(self, key: str) -> list[tuple[str, float, str]]:
        from rapidfuzz import fuzz, process

        cutoff = 80 if len(key) >= 8 else 83
        return [
            (cand, 0.85 * score / 100, "fuzzy")
            for cand, score, _ in process.extract(
                key, self.store.typo_candidates(key), scorer=fuzz.ratio, score_cutoff=cutoff, limit=6
            )
        ]

    def _stem_claims(self, word: str) -> array[int]:
        """Claims holding a word with the query word's English stem (detained ~ detention? no:
        detain ~ detained ~ detaining)."""
        from .lang import english_stem

        return self.store.stem_postings(english_stem(word))

    def _concept_spans(self, words: Sequence[Word], content: set[int], fixed: dict[int, str]) -> list[tuple[int, int, int, str]]:
        """Vocabulary concepts named inside the query: (start, end, concept, via). ``fixed``
        gives a typo's correction for some positions, looked up in its place."""
        found = self._english_concepts(words, content, fixed)
        # a Cyrillic word that spells a word of a person's name (Санавар) or a proper noun of
        # the claims (Көше: the Koshe party) is that name, not an inflected Kazakh or Russian
        # word that happens to begin like a term (санақ) or translates it (көше, "street")
        cyr = [i for i, w in enumerate(words) if w.cyrillic and not self._spells_a_name(w)]
        if not cyr:
            return found
        from .lang import russian_stem

        stems = {i: russian_stem(words[i].raw) for i in cyr if not words[i].kazakh}
        for i in cyr:
            if i in stems:
                found += self._russian_concepts(i, len(words), stems)
            found += self._kazakh_concepts(words, i)
        return found

    def _english_concepts(
        self, words: Sequence[Word], content: set[int], fixed: dict[int, str]
    ) -> list[tuple[int, int, int, str]]:
        """Concepts with an English term that a run of Latin words of the query makes, by
        stems (a typo in its corrected form: via "fuzzy"); the longest run first at each start."""
        from .lang import english_stem

        store = self.store
        found: list[tuple[int, int, int, str]] = []
        n = len(words)
        latin = [fixed.get(i, w.norm) for i, w in enumerate(words)]
        for i in range(n):
            for j in range(min(n, i + MAX_TERM_WORDS), i, -1):
                if not any(k in content for k in range(i, j)) or any(w.cyrillic for w in words[i:j]):
                    continue
                key = " ".join(english_stem(w) for w in latin[i:j])
                via = "fuzzy" if any(k in fixed for k in range(i, j)) else "synonym"
                found += [(i, j, ci, via) for ci in store.concept_en(key)]
        return found

    def _russian_concepts(self, i: int, n: int, stems: dict[int, str]) -> list[tuple[int, int, int, str]]:
        """Concepts with a Russian term whose words' stems meet those of the query's Russian
        words from position ``i`` on (``stems``: by position, of a query of ``n`` words)."""
        from .lang import stems_meet

        found: list[tuple[int, int, int, str]] = []
        for key, packed in self.store.concept_ru(stems[i][:BUCKET]).items():
            run = key.split()
            if i + len(run) <= n and all(i + k in stems and stems_meet(stems[i + k], s) for k, s in enumerate(run)):
                found += [(i, i + len(run), ci, "translation") for ci in unpack(packed)]
        return found

    def _kazakh_concepts(self, words: Sequence[Word], i: int) -> list[tuple[int, int, int, str]]:
        """Concepts with a Kazakh term that the query's Cyrillic words from position ``i`` on meet."""
        from .lang import kazakh_meets

        n = len(words)
        return [
            (i, i + len(run), ci, "translation")
            for run, ci in self.store.concept_kk(words[i].raw[:BUCKET])
            if i + len(run) <= n and all(words[i + k].cyrillic and kazakh_meets(words[i + k].raw, t) for k, t in enumerate(run))
        ]

    def _spans(self, folds: Sequence[str], content: set[int]) -> list[tuple[int, int, list[Any], float, str]]:
        """Entity and topic names inside the query: (start, end, form, weight, via)."""
        found, covered = self._exact_spans(folds, content)
        exact_words = {k for i, j in covered for k in range(i, j)}
        return found + self._fuzzy_spans(folds, content, exact_words)

    def _exact_spans(
        self, folds: Sequence[str], content: set[int]
    ) -> tuple[list[tuple[int, int, list[Any], float, str]], set[tuple[int, int]]]:
        """Runs of query words (up to ``MAX_SPAN``) that are, folded, a name or alias of an
        entity or topic, or a part of one ("partial"); and the runs (start, end) so found."""
        found = []
        store = self.store
        n = len(folds)
        covered: set[tuple[int, int]] = set()
        for i in range(n):
            for j in range(min(n, i + MAX_SPAN), i, -1):
                if not any(k in content for k in range(i, j)):
                    continue
                key = " ".join(folds[i:j])
                for form in store.forms_for(key):
                    found.append((i, j, form, 1.0, form[3]))
                    covered.add((i, j))
                for form in store.partials_for(key):
                    found.append((i, j, form, 0.9, "partial"))
                    covered.add((i, j))
        return found, covered

    def _fuzzy_spans(
        self, folds: Sequence[str], content: set[int], exact_words: set[int]
    ) -> list[tuple[int, int, list[Any], float, str]]:
        """Fuzzy names: spans of up to three words, none of them matched exactly (none in
        ``exact_words``), that hold a word the index does not know as written (a typo or an
        unlisted spelling), near a name or alias."""
        found: list[tuple[int, int, list[Any], float, str]] = []
        store = self.store
        n = len(folds)
        spans = [
            (i, j)
            for i in range(n)
            for j in range(i + 1, min(n, i + 3) + 1)
            if not any(k in exact_words for k in range(i, j))
            and any(k in content and not store.in_postings(folds[k]) for k in range(i, j))
            and len("".join(folds[i:j])) >= FUZZY_MIN_LEN
        ]
        if spans:
            from rapidfuzz import fuzz, process

            for i, j in spans:
                key = " ".join(folds[i:j])
                cutoff = 85 if len(key) >= 8 else 90
                keys = store.form_key_candidates(key)
                for cand, score, _ in process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=4):
                    for form in store.forms_for(cand):
                        found.append((i, j, form, 0.85 * score / 100, "fuzzy"))
        return found

    # -- ranking ---------------------------------------------------------------------------

    def rank(self, query: str, allowed: set[int] | None = None, limit: int | None = None) -> list[Ranked]:
        """Claims matching ``query``, best first (full answers, then partial ones)."""
        r = self.answer(query, allowed, limit)
        ranked = r.full + r.partial
        return ranked[:limit] if limit else ranked

    def answer(self, query: str, allowed: set[int] | None = None, limit: int | None = None, count: bool = True) -> Ranking:
        """Claims that answer ``query`` in full, best first, and apart the nearest partial ones.

        With a ``limit``, ``full`` may hold only the best ``limit`` answers (and ``partial``
        the best ``max(limit, 10)``); ``total`` counts them all. That lets a query over words
        that many claims hold rank the best of them without scoring every one (``_bulk``).
        ``count=False``: the caller shows no count, and a one-word query over a word many
        claims hold is not counted (``total`` None): counting is most of its time."""
        q = analyse(query, MAX_QUERY_WORDS)
        if not q.words:
            return Ranking([], [], (), (), None)
        if q.report:
            of_report = self.store.report_positions(q.report)
            allowed = of_report if allowed is None else allowed & of_report
        src = self._sources(q)
        size = sum(len(positions) for sources in src.by_word.values() for positions, _ in sources)
        if limit is not None and size > BULK and self.store.length_ordered and self._bulk_applies(q, src):
            return _Bulk(self, q, src, allowed, limit, max(limit, 10), count).rank()
        credit = {p: _expand(sources) for p, sources in src.by_word.items()}
        return self._tiers(q, credit, src.tier2, src.id_hit, allowed)

    def _sources(self, q: Query) -> _Sources:
        """For each content word of the query, every list of claims that holds it, with how
        (a ``Credit``), in the order they are found: a claim's credit for a word is the first
        of the highest weight among the lists that hold it (see ``_expand``)."""
        words, content = q.words, set(q.content)
        by_word: dict[int, list[tuple[array[int], Credit]]] = {p: [] for p in content}
        self._corrected = {}
        self._name_pos = set()

        def add(p: int, positions: array[int], c: Credit) -> None:
            if positions:
                by_word[p].append((positions, c))

        # 1. the words themselves (Latin script; Cyrillic words met by the vocabulary below)
        translated = {i for s in self._concept_spans(words, content, {}) if s[3] == "translation" for i in range(s[0], s[1])}
        months = q.months
        self._give_words(add, words, content, translated | set(months))
        # 1b. decades: "1990s", "the 90s", "the nineties" (and "early", "mid", "late" before them);
        # a month next to a year: "May 2020", "в мае 2020"
        self._give_decades(add, words, content)
        for p, month in months.items():
            if p in content:
                written, positions = self.store.posting(month)
                add(p, positions, (1.0, "claim", "month", written or month, False))
        # 2. concepts: synonyms, translations, topic labels in any language
        for i, j, concept, via in self._concept_spans(words, content, {}):
            self._give_concept(add, content, i, j, concept, via)
        # 3. typos, only for words nothing else matched
        fixed = self._give_typos(add, words, content, translated, by_word)
        if fixed:
            for i, j, concept, _via in self._concept_spans(words, content, fixed):
                self._give_concept(add, content, i, j, concept, "fuzzy")
        # 4. names of entities and topics inside the query
        tier2, named = self._give_names(add, words, content, translated)
        by_id = q.text
        id_hit = self.store.position_of(by_id) if " " not in by_id and "-" in by_id else None
        self._named = named
        return _Sources(by_word, tier2, named, id_hit, bool(translated))

    def _give_words(self, add: _Add, words: Sequence[Word], content: set[int], translated: set[int]) -> None:
        """Step 1 of ``_sources``: each content word not met by a translation, as written, by
        prefix or by stem, in the claims' text and lay terms, and by its English stem."""
        for p in sorted(content):
            w = words[p]
            if p in translated:
                continue
            keys = self._word_keys(w.norm, fuzzy=False)
            for key, weight, via in keys:
                # a name's "stem" (Elshibekov ~ Elshibayev) is a typo of that name
                self._give_key(add, p, key, weight, via, via == "stem" and key in self.name_words)
            if not w.norm.isdigit() and w.norm.isalpha():
                add(p, self._stem_claims(w.norm), (STEM_WEIGHT, "claim", "stem", w.norm, False))

    def _give_key(self, add: _Add, p: int, key: str, weight: float, via: str, name: bool) -> None:
        """Credit word ``p`` with the claims that hold the index word ``key`` in their text
        (as the reports write it) and in their lay search terms (for a little less)."""
        written, positions = self.store.posting(key)
        add(p, positions, (weight, "claim", via, written or key, name))
        add(p, self.store.term_postings(key), (weight * TERM_WEIGHT, "terms", via, key, name))

    def _give_decades(self, add: _Add, words: Sequence[Word], content: set[int]) -> None:
        """Step 1b of ``_sources``: the words of a decade the query names, with the claims
        holding any year of it or the decade as written ("1990s")."""
        for ps, (lo, hi) in decades(words).items():
            years = [str(y) for y in range(lo, hi + 1)] + [f"{lo - lo % 10}s"]
            for year in years:
                written, positions = self.store.posting(year)
                for p in ps:
                    if p in content:
                        add(p, positions, (1.0, "claim", "decade", written or year, False))

    def _give_typos(
        self,
        add: _Add,
        words: Sequence[Word],
        content: set[int],
        translated: set[int],
        by_word: dict[int, list[tuple[array[int], Credit]]],
    ) -> dict[int, str]:
        """Step 3 of ``_sources``: for a word nothing matched as written (or only a loose stem
        or prefix), the claims holding a word it is a typo of. Returns each corrected word's
        best correction by position, and notes it as the reports write it (``_corrected``)."""
        store = self.store
        fixed: dict[int, str] = {}
        for p in sorted(content):
            if p in translated or len(words[p].norm) < FUZZY_MIN_LEN or not words[p].norm.isalpha():
                continue
            # a word matched only by a loose stem ("parlimentary" ~ "parliament") may be a typo
            # of a closer word ("parliamentary"): look for one too
            if by_word[p] and (store.in_postings(fold_word(words[p].norm)) or _best_via(by_word[p], ("stem", "prefix"), False)):
                continue
            typos = self._typos(fold_word(words[p].norm))
            if _is_cyrillic(words[p].raw):
                typos = [t for t in typos if self._cognate(fold_word(words[p].norm), t[0])]
            for key, weight, _via in typos:
                self._give_key(add, p, key, weight, "fuzzy", key in self.name_words)
            if typos:
                fixed[p] = typos[0][0]
                written = store.posting(typos[0][0])[0]
                self._corrected[p] = normalize_text(written) if written else typos[0][0]
        return fixed

    def _give_names(self, add: _Add, words: Sequence[Word], content: set[int], translated: set[int]) -> tuple[set[int], set[int]]:
        """Step 4 of ``_sources``: the names of entities and topics inside the query, with the
        claims tagged with them. Returns the claims tagged with what the whole query names
        (tier 2) and those tagged with an entity it names; notes the people it names."""
        store = self.store
        folds = [fold_word(w.norm) if i not in translated else "\0" for i, w in enumerate(words)]
        tier2: set[int] = set()
        named: set[int] = set()
        self._query_people = set()
        for i, j, form, weight, via in self._spans(folds, content):
            tag, display = form[0], form[1]
            kind = tag.split(":", 1)[0]
            how = via if via in ("fuzzy", "partial") else ("alias" if via == "alias" else "name")
            tagged = array("I", sorted(store.by_tag(tag)))  # by position, as every list of claims
            if i == 0 and j == len(words) and via not in ("fuzzy", "partial"):
                tier2.update(tagged)
            w_ = weight * (0.9 if kind == "topic" else 1.0)
            # a typo on one word of a name must be vouched for by the rest of the query; a
            # whole name of several words that is near an entity's name vouches for itself
            typo_of_name = via == "fuzzy" and kind != "topic" and j - i == 1
            if kind != "topic" and via not in ("fuzzy",):
                named.update(tagged)
                if kind == "person":
                    self._query_people.add(tag)
            for p in range(i, j):
                if p in content:
                    add(p, tagged, (w_, kind, how, display, typo_of_name))
                    if kind != "topic" and via != "fuzzy":  # (a name's inflected word: Евгения ~ Yevgeny)
                        self._name_pos.add(p)
        return tier2, named

    def _credit(self, q: Query) -> tuple[dict[int, dict[int, Credit]], set[int], int | None]:
        """For each content word of the query, every claim that holds it and how."""
        src = self._sources(q)
        return {p: _expand(sources) for p, sources in src.by_word.items()}, src.tier2, src.id_hit

    def _give_concept(self, add: _Add, content: set[int], i: int, j: int, concept: int, via: str) -> None:
        for form, positions in self.store.concept_groups(concept):
            lay = form.startswith("terms ")  # held only by the claims' lay terms (see build.concept_form)
            shown = form[len("terms ") :] if lay else form
            # a translation that is a name (Узбекистана: Uzbekistan) names a thing, as a name does
            if (
                via == "translation"
                and not form.startswith("topic ")
                and any(not f[0].startswith("topic:") for f in self.store.forms_for(fold_key(shown)))
            ):
                self._name_pos.update(p for p in range(i, j) if p in content)
            # a claim that says the word outranks one whose lay terms say it, and both one that
            # is only tagged with the concept's topic
            weight = SYNONYM_WEIGHT * (TOPIC_ONLY_WEIGHT if form.startswith("topic ") else TERM_WEIGHT if lay else 1.0)
            weight *= 0.9 if via == "fuzzy" else 1.0
            for p in range(i, j):
                if p in content:
                    add(p, positions, (weight, "terms" if lay else "claim", via, shown, False))

    def _bulk_applies(self, q: Query, src: _Sources) -> bool:
        """Whether ``_Bulk`` ranks this query exactly as ``_tiers`` would: at most
        ``BULK_WORDS`` content words (a longer query is ranked claim by claim), no word met
        by translation (a phrase then need not hold every word), and no typo of a name
        unless the query is one word (only then is no typo ever vouched for or set aside:
        see ``_agreed``)."""
        if not 1 <= len(src.by_word) <= BULK_WORDS or src.translated or any(w.cyrillic for w in q.words):
            return False
        return len(src.by_word) == 1 or not any(c[4] for sources in src.by_word.values() for _, c in sources)

    def _tiers(
        self, q: Query, credit: dict[int, dict[int, Credit]], tier2: set[int], id_hit: int | None, allowed: set[int] | None
    ) -> Ranking:
        """Sort every candidate into its tier (named tests, best first) and score it."""
        content = list(credit)
        n_claims = max(self.store.n, 1)
        idf = {p: math.log(1 + n_claims / (1 + len(credit[p]))) for p in content}
        total_idf = sum(idf.values()) or 1.0
        candidates: set[int] = set().union(*(credit[p] for p in content)) if content else set()
        if id_hit is not None:
            candidates.add(id_hit)
        if allowed is not None:
            candidates &= allowed
        phrase = self._phrase(q)
        missing = tuple(
            q.words[p].raw for p in content if not (credit[p].keys() & (allowed if allowed is not None else credit[p].keys()))
        )
        full: list[Ranked] = []
        partial: list[Ranked] = []
        suggestions: dict[str, None] = {}
        name_pos = {p for p in content if fold_word(q.words[p].norm) in self.name_words}
        rows = self.store.rows(candidates)
        implicit = self._implicit(q, content)
        ctx = _TierContext(q, content, credit, tier2, id_hit, phrase, rows, idf, total_idf, name_pos, implicit)
        for ci in sorted(candidates, key=lambda c: (rows[c].length, rows[c].id)):  # one order in every store
            r = self._rank_one(ctx, ci, suggestions)
            if r is not None:
                (full if r.tier > TIER_PARTIAL else partial).append(r)
        order = lambda r: (-r.tier, -r.score, rows[r.position].length, rows[r.position].id)  # noqa: E731
        full.sort(key=order)
        partial.sort(key=order)
        return Ranking(full, partial, missing, tuple(suggestions) if not full else (), q.report)

    def _rank_one(self, ctx: _TierContext, ci: int, suggestions: dict[str, None]) -> Ranked | None:
        """One candidate's tier, score and match; None for a partial match too weak to show."""
        q, content, credit, idf, total_idf = ctx.q, ctx.content, ctx.credit, ctx.idf, ctx.total_idf
        held = {p: credit[p][ci] for p in content if ci in credit[p]}
        agreed = self._agreed(held, content, ctx.name_pos)
        if agreed is not None:
            suggestions.update(dict.fromkeys(agreed))
            held = {p: c for p, c in held.items() if not c[4]}
        coverage = sum(idf[p] * c[0] for p, c in held.items()) / total_idf
        text_cov = sum(idf[p] * c[0] for p, c in held.items() if c[1] == "claim") / total_idf
        lacks = tuple(q.words[p].raw for p in content if p not in held and p not in ctx.implicit)
        match: tuple[str, str, str] | None
        tier = next((t for t, passes in TIER_TESTS if passes(self, ctx, ci, lacks, held)), TIER_PARTIAL)
        if ci == ctx.id_hit:
            match, coverage = ("id", "exact", q.text), 1.0
        elif tier == TIER_PHRASE:
            match = ("claim", "phrase", q.text)
        else:
            match = _heaviest(held, idf)
        if tier == TIER_PARTIAL and (coverage < MIN_PARTIAL_COVERAGE or not held):
            return None
        score = _score(tier, self._within(coverage, text_cov, ctx.rows[ci].length, q.wants, ci), len(lacks))
        return Ranked(ci, round(score, 1), tier, match, lacks if tier <= TIER_ALL_BUT_ONE else ())

    @staticmethod
    def _is_phrase(phrase: str | None, text: str, terms: str) -> bool:
        # normalised texts are single-space-separated words: a padded substring is a whole-word phrase
        return phrase is not None and (phrase in f" {text} " or (bool(terms) and phrase in f" {terms} "))

    def _all_but_one(
        self,
        q: Query,
        content: list[int],
        lacks: tuple[str, ...],
        ci: int,
        credit: dict[int, dict[int, Credit]],
        held: dict[int, Credit],
    ) -> bool:
        """A claim that holds every content word of a long query but one ("threat level raised
        to red to stop rally"), or of a query of three words that names an entity the claim
        is tagged with ("Vladimir Kozlov released") or a proper noun the claim holds ("QazVac
        vaccine doses"). The word it lacks must be one the
        reports use elsewhere (a word no claim holds says the reports are silent on it), and
        no figure and no name."""
        if len(lacks) == 2:
            return self._all_but_two(q, content, lacks, credit)
        if len(lacks) != 1:
            return False
        p = next(p for p in content if q.words[p].raw == lacks[0])
        # a word the reports use (or a typo of one: "registraton"), found in the claims as a
        # word, not only as a synonym of one
        need = self._near_word(q, content, p, any(c[2] in KNOWN_VIAS for c in credit[p].values()))
        if need != "vouched":
            return need == "open"
        if ci in self._named:
            return True
        proper = self.proper_words
        return any(
            c[2] == "word" and fold_word(q.words[o].norm) in proper and not self._commonplace(q.words[o].norm)
            for o, c in held.items()
        )

    def _all_but_two(self, q: Query, content: list[int], lacks: tuple[str, ...], credit: dict[int, dict[int, Credit]]) -> bool:
        """A query of six weighty words or more (a description, not a keyword search; more
        than ``_Bulk`` ranks) may lack two, each one a near answer may lack, at most one of
        them a word no claim holds. Such a claim ranks below those lacking one (``_score``)."""
        if sum(1 for o in content if not self._commonplace(q.words[o].norm)) < 6:
            return False
        ps = [p for p in content if q.words[p].raw in lacks]
        known = [any(c[2] in KNOWN_VIAS for c in credit[p].values()) for p in ps]
        return sum(known) >= 1 and all(self._near_word(q, content, p, k) == "open" for p, k in zip(ps, known, strict=True))

    def _near_word(self, q: Query, content: list[int], p: int, known: bool) -> str | None:
        """Whether query word ``p`` may be the one a near answer lacks: "open", "vouched" (only
        in a claim tagged with an entity the query names, or holding a proper noun of it as
        written), or None. The query must be long: three words or more, four unless vouched
        for, counting no word most claims hold ("Kazakhstan" says little) but the lacking one.
        The word: one the reports use, no figure and no name (of a person, an organisation
        or a place, in any script: lacking "Uzbekistan", an answer would be about something
        else). In a query of six words or more it may be a word no claim holds (one of a
        phrase: "team up"), or a Russian or Kazakh word the vocabulary does not translate."""
        word = q.words[p].norm
        key = fold_word(word)
        if not word.isalpha() or p in self._name_pos or key in self.name_words:
            return None
        n = sum(1 for o in content if o == p or not self._commonplace(q.words[o].norm))
        if not known and n < 6:
            return None
        return "open" if n >= 4 else ("vouched" if n == 3 else None)

    def _cognate(self, spelt: str, key: str) -> bool:
        """Whether a Russian or Kazakh word, spelt in Latin letters, may be the index word
        ``key``: a name, or a word of the same start (конгресс ~ congress, религий ~
        religion), never one that is merely close (уровень is no "proven")."""
        return key in self.name_words or key in self.proper_words or spelt[:3] == key.replace("c", "k")[:3]

    def _spells_a_name(self, w: Word) -> bool:
        """Whether a word, transliterated, is a word of a person's name or a proper noun."""
        key = fold_word(w.norm)
        return key in self.name_words or key in self.proper_words

    def _implicit(self, q: Query, content: list[int]) -> frozenset[int]:
        """The query's words every claim holds without saying them: a word one claim in five
        holds is what the fact base is about ("Kazakhstan", in reports on it), so a claim
        lacking it still answers a query whose other words it holds (it ranks below one that
        says it). Not a figure, and not when the query has no other weighty word."""
        common = {p for p in content if q.words[p].norm.isalpha() and self._commonplace(q.words[p].norm)}
        return frozenset(common) if common and len(common) < len(content) else frozenset()

    def _commonplace(self, word: str) -> bool:
        """Whether one claim in five or more holds ``word`` as written."""
        key = fold_word(word)
        if key not in self._common:
            self._common[key] = self.store.posting_size(key) * 5 >= max(self.store.n, 5)
        return self._common[key]

    @staticmethod
    def _agreed(held: dict[int, Credit], content: list[int], name_pos: set[int]) -> list[str] | None:
        """A typo of a name counts only when the rest of the query agrees: some content
        word that is not itself part of a name (Yerzhan in "Yerzhan Elshibekov" does not
        vouch for Elshibekov) is held, and every such word is held, not by a typo.
        Returns the names to suggest when the query does not agree, else None."""
        typos = [p for p, c in held.items() if c[4]]
        if not typos or all(p in typos for p in content):
            return None
        others = [p for p in content if p not in typos and p not in name_pos]
        if others and all(p in held and held[p][2] != "fuzzy" for p in others):
            return None
        return [held[p][3] for p in typos]

    def _phrase(self, q: Query) -> str | None:
        """The whole query as a phrase to find in a claim's text, padded with spaces."""
        qnorm = " ".join(w.norm for w in q.words)
        if len(qnorm) < 3:
            return None
        # "parlimentary oposition" is the phrase "parliamentary opposition": typos and folded
        # spellings are compared as the reports write them
        store = self.store

        def written(i: int, w: Word) -> str:
            if i in self._corrected:  # a typo of a name never makes a phrase: it must be vouched for
                fixed = self._corrected[i]
                return w.norm if any(fold_word(x) in self.name_words for x in fixed.split()) else fixed
            surface = store.posting(fold_word(w.norm))[0]
            return normalize_text(surface) if surface else w.norm

        return " " + " ".join(written(i, w) for i, w in enumerate(q.words)) + " "

    def _within(
        self, coverage: float, text_cov: float, length: int, wants: str | None, ci: int, wants_at_most: float | None = None
    ) -> float:
        """A claim's place within its tier, from 0 to 1: how much of the query it holds (rare
        words weigh more), how much of that in its own text rather than its tags, what the
        question asks for, and a little for brevity. The parts add up to at most 1, so no
        claim's score is cut off at the top of its tier. (``wants_at_most``: the most any
        claim could have of what the question asks, for a bound; then ``ci`` is not read.)"""
        brevity = 1.0 - min(length / 400, 1.0)
        has = self._wants(wants, ci) if wants_at_most is None else wants_at_most
        return (W_COVERAGE * coverage + W_TEXT * text_cov + W_WANTS * has + W_BREVITY * brevity) / (
            W_COVERAGE + W_TEXT + W_WANTS + W_BREVITY
        )

    def _wants(self, wants: str | None, ci: int) -> float:
        """How well a claim has what the question asks for: a figure ("how many"), a date as
        precise as possible ("when"), someone the query does not name ("who"), a dated event
        ("what happened to")."""
        if wants is None:
            return 0.0
        row = self.store.row(ci)
        if wants == "number":
            return 1.0 if row.figure else 0.0
        if wants in ("date", "event"):
            date = row.date or ""
            precision = {10: 1.0, 7: 0.8, 4: 0.5}.get(len(date), 0.0)
            return precision if wants == "date" else 0.6 * precision
        if wants == "person":
            return 1.0 if any(f"person:{p}" not in self._query_people for p in row.people) else 0.0
        if wants == "reason":
            text = f" {row.text} "
            return 1.0 if any(cue in text for cue in REASON_CUES) else (0.5 if " after " in text else 0.0)
        return 0.0


def _score(tier: int, within: float, lacking: int) -> float:
    """A claim's score: its tier's base, and its place within the tier. A near answer
    lacking one word ranks above every one lacking two (the upper half of the tier)."""
    if tier == TIER_ALL_BUT_ONE:
        return TIER_BASE[tier] + TIER_SPAN[tier] * (0.5 * within + (0.5 if lacking <= 1 else 0.0))
    return TIER_BASE[tier] + TIER_SPAN[tier] * within


def _is_cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


# What a claim that gives a cause says (normalised text): a "why" question prefers it ("after"
# counts half: it tells what came before, often why)
REASON_CUES = tuple(
    f" {cue} "
    for cue in (
        "because", "due to", "on the grounds", "grounds that", "on charges", "charged with", "accused of",
        "allegedly", "in retaliation", "as a result", "reason", "reasons", "in connection with",
        "in response to", "led to", "caused", "so that", "in order to", "aimed at", "to prevent", "to stop",
        "following", "for criticising", "for criticizing", "for organising", "for organizing", "for taking part",
        "for participating", "for posting", "for insulting", "for spreading", "for calling", "over his", "over her",
        "over their", "over its", "since", "motivated",
    )
)  # fmt: skip
KNOWN_VIAS = ("word", "stem", "prefix", "fuzzy")  # a word the reports use, as ``_all_but_one`` asks
BULK_WORDS = 5  # the most content words a query ranked by classes has (classes multiply with words)
MAX_CLASSES = 20_000  # credit levels x words, beyond which a query is ranked claim by claim
BULK = 3000  # claims held by the query's words, above which a limited query ranks by classes (``_Bulk``)
_CHUNK = 256  # claims of a class scored at a time, shortest first
SPARSE_SCAN = 20_000  # claims read from a class's lists before one holding an eighth of them is computed whole


class _Sources(NamedTuple):
    """What ``Searcher._sources`` found for a query."""

    by_word: dict[int, list[tuple[array[int], Credit]]]  # content word -> (claims, credit), in order found
    tier2: set[int]  # claims tagged with what the whole query names
    named: set[int]  # claims tagged with an entity the query names
    id_hit: int | None  # the claim whose id the query is
    translated: bool  # a word was met by a translation


def _expand(sources: list[tuple[array[int], Credit]]) -> dict[int, Credit]:
    """Each claim's credit for one word: the first of the highest weight among ``sources``."""
    out: dict[int, Credit] = {}
    for positions, c in sources:
        if not out:
            out = dict.fromkeys(positions, c)
            continue
        weight = c[0]
        for ci in positions:
            best = out.get(ci)
            if best is None or weight > best[0]:
                out[ci] = c
    return out


def _best_via(sources: list[tuple[array[int], Credit]], vias: Any, among: bool = True) -> bool:
    """Whether some claim's credit for the word (see ``_expand``) is held by one of ``vias``
    (``among=False``: by none of them)."""
    if all((c[2] in vias) != among for _, c in sources):
        return False
    covered: set[int] | None = None  # (the first list, the heaviest, gives every claim in it its credit)
    for k in sorted(range(len(sources)), key=lambda k: -sources[k][1][0]):
        positions, c = sources[k]
        if (c[2] in vias) == among and positions and (covered is None or not covered.issuperset(positions)):
            return True
        if covered is None:
            covered = set(positions)
        else:
            covered.update(positions)
    return False


class _Bulk:
    """Ranks a query whose words many claims hold without scoring every claim, with the
    same result as ``Searcher._tiers`` for the best ``k_full`` answers and ``k_part``
    partial matches, and the same count of answers.

    For each query word, a claim's credit is that of the first, heaviest list holding it;
    claims with the same credit level (weight, whether in the claim's own text, whether as
    the word itself) for every word, or lacking the same words, form a *class*: all of a
    class share their coverage, so a class's best score is known before any of its claims
    is looked at, but for the tier (a phrase), what the question wants and brevity. Classes
    are taken best first; within one, claims in order of position, which is the order of
    (length, id): the shortest first, exactly as ties are broken. A class, or the rest of
    one, is left once even its best possible claim could not enter the answers kept. The
    count of answers comes from set arithmetic: every claim holding every word answers
    (``Searcher._bulk_applies`` rules out what would make it otherwise), and of those
    lacking one word of three, the ones ``_all_but_one`` admits.
    """

    def __init__(
        self, s: Searcher, q: Query, src: _Sources, allowed: set[int] | None, k_full: int, k_part: int, count: bool = True
    ):
        self.s, self.q, self.src, self.allowed = s, q, src, allowed
        self.k_full, self.k_part = k_full, k_part
        # one word, no filter, no count wanted: the claims holding the word need not be
        # gathered into a set (at 1,000,000 claims that took 70 ms for "Kazakhstan")
        self.uncounted = not count and allowed is None and len(src.by_word) == 1

    def rank(self) -> Ranking:
        """The best ``k_full`` answers and ``k_part`` partial matches, and the count of answers."""
        s, q, src, allowed = self.s, self.q, self.src, self.allowed
        content = sorted(src.by_word)
        n_claims = max(s.store.n, 1)
        self.implicit = s._implicit(q, content)
        levels, held = self._levels(content)
        if math.prod(len(levels[p]) + 1 for p in content) > MAX_CLASSES:  # too many to weigh: score every claim
            return s._tiers(q, {p: _expand(src.by_word[p]) for p in content}, src.tier2, src.id_hit, allowed)
        # (one word: its weight is all the query's, whatever it is)
        idf = {p: 1.0 if self.uncounted else math.log(1 + n_claims / (1 + len(held[p]))) for p in content}
        total_idf = sum(idf.values()) or 1.0
        missing = self._missing(content, held)
        phrase = s._phrase(q)
        name_pos = {p for p in content if fold_word(q.words[p].norm) in s.name_words}
        known = {p for p in content if _best_via(src.by_word[p], KNOWN_VIAS)}
        id_hit = src.id_hit if src.id_hit is not None and (allowed is None or src.id_hit in allowed) else None
        answering = None if self.uncounted else self._count_answers(content, held, known, id_hit)
        # the credits of the claims scored, and for a word the reports use as a word, one that
        # says so (``_all_but_one`` asks it of every claim's credit)
        credit: dict[int, dict[int, Credit]] = {p: {-1: (0.0, "", "word", "", False)} if p in known else {} for p in content}
        self.ctx = _TierContext(q, content, credit, src.tier2, id_hit, phrase, {}, idf, total_idf, name_pos, self.implicit)
        self.wants = 0.0 if q.wants is None else (0.6 if q.wants == "event" else 1.0)
        classes = self._classes(content, levels, idf, total_idf, self._phrase_possible(phrase))
        # heaps of (sort key negated, ranked): the answers and the partial matches kept so far
        self.full: list[tuple[tuple[Any, ...], Ranked]] = []
        self.part: list[tuple[tuple[Any, ...], Ranked]] = []
        # ties of score and length are broken by id; in a store numbered in (length, id)
        # order, a claim after the last one kept loses them
        self.ties_in_order = getattr(s.store, "ties_in_order", False)
        self.seen: set[int] = set()  # the claims scored
        if id_hit is not None:
            self.seen.add(id_hit)
            self._score([id_hit])
        for tiers, _best, vector, cov, tcov in classes:
            if not self._beaten(tiers, cov, tcov, 0):
                self._take_class(tiers, vector, cov, tcov, levels, held)
        return Ranking(
            self._best_first(self.full),
            self._best_first(self.part),
            missing,
            (),
            q.report,
            answering,
            not self.uncounted,
        )

    def _levels(
        self, content: list[int]
    ) -> tuple[dict[int, dict[tuple[float, bool, bool], list[array[int]]]], dict[int, set[int]]]:
        """For each word, its lists of claims by credit level, and the claims holding it. Each
        word's lists go from the heaviest down (``ordered``): a claim's credit level (weight,
        whether in its own text, whether as the word itself) is that of the first holding it."""
        self.ordered = {p: sorted(self.src.by_word[p], key=lambda sc: -sc[1][0]) for p in content}
        levels: dict[int, dict[tuple[float, bool, bool], list[array[int]]]] = {}
        held: dict[int, set[int]] = {}
        for p in content:
            by_level: dict[tuple[float, bool, bool], list[array[int]]] = {}
            union: set[int] = set()
            for positions, c in self.ordered[p]:
                by_level.setdefault(_level(c), []).append(positions)
                if not self.uncounted:
                    union.update(positions)
                elif positions and not union:
                    union.add(positions[0])  # (one claim stands for them: whether any holds it)
            levels[p], held[p] = by_level, union
        return levels, held

    def _missing(self, content: list[int], held: dict[int, set[int]]) -> tuple[str, ...]:
        """The query words no claim (of those allowed) holds."""
        allowed = self.allowed
        return tuple(self.q.words[p].raw for p in content if not held[p] or (allowed is not None and held[p].isdisjoint(allowed)))

    def _phrase_possible(self, phrase: str | None) -> bool:
        """Whether some claim may hold the query as a phrase: every word of it that is not a
        stopword is one the claims hold (in their text or lay terms), as the index folds it."""
        store = self.s.store
        return phrase is not None and all(w in STOPWORDS or store.has_word(fold_word(w)) for w in phrase.split())

    def _count_answers(self, content: list[int], held: dict[int, set[int]], known: set[int], id_hit: int | None) -> int:
        """The count of answers: every claim holding every word, those lacking one word that
        the all-but-one tier admits, and the claim the query names by id."""
        allowed = self.allowed
        if len(content) == 1 and allowed is None:
            every = held[content[0]]
        else:
            every = set.intersection(*(held[p] for p in content if p not in self.implicit))
            if allowed is not None:
                every &= allowed
        answering = len(every)
        lacking_one = self._all_but_one_sets(content, held, known) if len(content) >= 3 else {}
        answering += sum(len(claims) for claims in lacking_one.values())
        if id_hit is not None and id_hit not in every and not any(id_hit in c for c in lacking_one.values()):
            answering += 1
        return answering

    def _classes(
        self,
        content: list[int],
        levels: dict[int, dict[tuple[float, bool, bool], list[array[int]]]],
        idf: dict[int, float],
        total_idf: float,
        phrase_possible: bool,
    ) -> list[tuple[list[int], float, tuple[Any, ...], float, float]]:
        """The classes some claim of which may be shown, best first: (the tiers its claims can
        reach, best first; the best score one can have; its vector, a credit level or None
        (lacking) for each word; its coverage; the part of that in the claims' own text)."""
        import itertools

        classes = []
        for vector in itertools.product(*([*levels[p], None] for p in content)):
            present = [(p, v) for p, v in zip(content, vector, strict=True) if v is not None]
            if not present:
                continue
            cov = sum(idf[p] * v[0] for p, v in present) / total_idf
            tcov = sum(idf[p] * v[0] for p, v in present if v[1]) / total_idf
            lacking = sum(1 for p, v in zip(content, vector, strict=True) if v is None and p not in self.implicit)
            tiers = self._reachable(lacking, len(content), cov, phrase_possible)
            if tiers:
                classes.append((tiers, self._best(tiers[0], cov, tcov, 0, self.wants), vector, cov, tcov))
        classes.sort(key=lambda c: (-c[0][0], -c[1]))
        return classes

    def _reachable(self, lacks: int, words: int, cov: float, phrase_possible: bool) -> list[int]:
        """The tiers a claim of a class can reach, best first: the class lacks ``lacks`` of
        the query's ``words`` content words and covers ``cov`` of the query."""
        tiers: list[int] = []
        if lacks == 0:
            tiers.append(TIER_PHRASE if phrase_possible else (TIER_NAMED if self.src.tier2 else TIER_ALL_WORDS))
        elif lacks == 1 and words >= 3:
            tiers.append(TIER_ALL_BUT_ONE)
        if lacks and cov >= MIN_PARTIAL_COVERAGE:
            tiers.append(TIER_PARTIAL)
        return tiers

    def _heap(self, tier: int) -> tuple[list[tuple[tuple[Any, ...], Ranked]], int]:
        """The heap a claim of ``tier`` is kept in (answers or partial matches), and its size."""
        return (self.full, self.k_full) if tier > TIER_PARTIAL else (self.part, self.k_part)

    def _beaten(self, tiers: list[int], cov: float, tcov: float, length: int, last: int = -1) -> bool:
        """Whether no claim of a class (reaching at most ``tiers``), at least ``length``
        long and after position ``last``, can enter its list."""
        for tier in tiers:
            heap, k = self._heap(tier)
            if len(heap) < k:
                return False
            best = (tier, self._best(tier, cov, tcov, length, self.wants), -length)
            worst = heap[0]
            if best > worst[0][:3] or (best == worst[0][:3] and not (self.ties_in_order and last > worst[1].position)):
                return False
        return True

    def _take_class(
        self,
        tiers: list[int],
        vector: tuple[Any, ...],
        cov: float,
        tcov: float,
        levels: dict[int, dict[tuple[float, bool, bool], list[array[int]]]],
        held: dict[int, set[int]],
    ) -> None:
        """Score the claims of one class not scored yet, shortest first, a chunk at a time
        (each twice the last, up to 64 times ``_CHUNK``), until the rest cannot enter."""
        import itertools

        members = self._members(self.ctx.content, vector, levels, held, self.seen)
        taken = 0
        while True:
            chunk = list(itertools.islice(members, _CHUNK << min(taken, 6)))
            if not chunk:
                break
            self.seen.update(chunk)
            taken += 1
            length = self._score(chunk)
            if self._beaten(tiers, cov, tcov, length, chunk[-1]):
                break

    def _score(self, chunk: list[int]) -> int:
        """Rank each claim of ``chunk`` (in order of position) and keep it if it enters its
        heap; returns the length of the last, the longest."""
        import heapq

        s, ctx, by_word = self.s, self.ctx, self.src.by_word
        rows = s.store.rows(chunk)
        ctx.rows.update(rows)
        for ci in chunk:
            for p in ctx.content:
                c = _credit_of(by_word[p], ci)
                if c is not None:
                    ctx.credit[p][ci] = c
            r = s._rank_one(ctx, ci, {})
            if r is None:
                continue
            heap, k = self._heap(r.tier)
            entry = ((r.tier, r.score, -rows[ci].length, _Desc(rows[ci].id)), r)
            if len(heap) < k:
                heapq.heappush(heap, entry)
            elif entry[0] > heap[0][0]:
                heapq.heapreplace(heap, entry)
        return rows[chunk[-1]].length

    def _best_first(self, heap: list[tuple[tuple[Any, ...], Ranked]]) -> list[Ranked]:
        """The claims kept in a heap, best first (the order of ``Searcher._tiers``)."""
        rows = self.ctx.rows
        return sorted((r for _, r in heap), key=lambda r: (-r.tier, -r.score, rows[r.position].length, rows[r.position].id))

    def _best(self, tier: int, cov: float, tcov: float, length: int, wants: float) -> float:
        """The highest score a claim of ``tier``, coverage and length can have."""
        # (a class ranked here lacks at most one word: see ``Searcher._all_but_two``)
        return round(_score(tier, self.s._within(cov, tcov, length, None, 0, wants_at_most=wants), 1), 1)

    def _level_of(self, p: int, ci: int) -> tuple[float, bool, bool] | None:
        """A claim's credit level for word ``p``: that of the first, heaviest list holding it."""
        import bisect

        for positions, c in self.ordered[p]:
            i = bisect.bisect_left(positions, ci)
            if i < len(positions) and positions[i] == ci:
                return _level(c)
        return None

    def _members(
        self,
        content: list[int],
        vector: tuple[Any, ...],
        levels: dict[int, dict[tuple[float, bool, bool], list[array[int]]]],
        held: dict[int, set[int]],
        seen: set[int],
    ) -> Iterator[int]:
        """The claims of one class (at the given level for each word it holds, lacking the
        rest) not scored yet, in order of position: read from the lists of one of its words
        as far as asked; a class that proves sparse in them is computed whole, with sets."""
        import heapq

        allowed = self.allowed
        present = [(p, v) for p, v in zip(content, vector, strict=True) if v is not None]
        absent = [p for p, v in zip(content, vector, strict=True) if v is None]
        p0, v0 = min(present, key=lambda pv: sum(len(a) for a in levels[pv[0]][pv[1]]))
        lists = levels[p0][v0]
        merged = heapq.merge(*lists) if len(lists) > 1 else iter(lists[0])
        done, scanned, given = -1, 0, 0  # done: the last position read
        for ci in merged:
            if scanned > SPARSE_SCAN and given * 8 < scanned:
                break  # sparse: compute the rest of the class whole
            scanned += 1
            if ci == done:
                continue
            done = ci
            if ci in seen or (allowed is not None and ci not in allowed):
                continue
            if any(self._level_of(p, ci) != v for p, v in present) or any(ci in held[p] for p in absent):
                continue
            given += 1
            yield ci
        else:
            return
        yield from self._rest_of_class(lists, done, p0, present, absent, held, seen)

    def _rest_of_class(
        self,
        lists: list[array[int]],
        done: int,
        p0: int,
        present: list[tuple[int, Any]],
        absent: list[int],
        held: dict[int, set[int]],
        seen: set[int],
    ) -> list[int]:
        """The claims of a class (read from ``lists``, those of its word ``p0``) after position
        ``done`` and not scored yet, computed whole with sets, in order of position."""
        allowed = self.allowed
        rest = {ci for ci in set().union(*lists) if ci > done}
        for p, _ in present:
            if p != p0:
                rest &= held[p]
        for p in absent:
            rest -= held[p]
        rest -= seen
        if allowed is not None:
            rest &= allowed
        rest = {ci for ci in rest if all(self._level_of(p, ci) == v for p, v in present)}
        return sorted(rest)

    def _all_but_one_sets(self, content: list[int], held: dict[int, set[int]], known: set[int]) -> dict[int, set[int]]:
        """For each word, the claims lacking only it that the all-but-one tier admits (see
        ``Searcher._all_but_one``): the word is one the reports use, no figure, no name; and
        a query of three words names an entity the claim is tagged with or a proper noun it
        holds as written."""
        s, q, allowed = self.s, self.q, self.allowed
        out: dict[int, set[int]] = {}
        for p in content:
            if p in self.implicit:
                continue
            need = s._near_word(q, content, p, p in known)
            if need is None:
                continue
            rest = [held[o] for o in content if o != p and o not in self.implicit]
            claims = set.intersection(*rest) - held[p]
            if allowed is not None:
                claims &= allowed
            if need == "vouched":
                vouched = set(self.src.named)
                for o in content:
                    if o != p and fold_word(q.words[o].norm) in s.proper_words and not s._commonplace(q.words[o].norm):
                        vouched |= {ci for ci in claims if (c := _credit_of(self.src.by_word[o], ci)) and c[2] == "word"}
                claims &= vouched
            out[p] = claims
        return out


def _heaviest(held: dict[int, Credit], idf: dict[int, float]) -> tuple[str, str, str] | None:
    """The match to show for a claim: (field, via, form) of the credit that weighs most (the
    rarest word, the best held), of the credits it ``held`` by word; None for none."""
    best = max(held.items(), key=lambda pc: idf[pc[0]] * pc[1][0])[1] if held else None
    return (best[1], best[2], best[3]) if best else None


def _level(c: Credit) -> tuple[float, bool, bool]:
    """What of a credit a claim's score depends on: its weight, whether it is in the claim's
    own text, whether it is the word itself (``_all_but_one`` asks)."""
    return (c[0], c[1] == "claim", c[2] == "word")


def _credit_of(sources: list[tuple[array[int], Credit]], ci: int) -> Credit | None:
    """One claim's credit for one word (as ``_expand`` gives it), from the lists."""
    import bisect

    best: Credit | None = None
    for positions, c in sources:
        if best is not None and c[0] <= best[0]:
            continue
        i = bisect.bisect_left(positions, ci)
        if i < len(positions) and positions[i] == ci:
            best = c
    return best


class _Desc(str):
    """A string that sorts in reverse (so a heap keeps the lowest id on top of ties)."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return str.__gt__(self, other)  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        return str.__lt__(self, other)  # type: ignore[operator]


class _TierContext(NamedTuple):
    """What the tier tests need to know about the query."""

    q: Query
    content: list[int]
    credit: dict[int, dict[int, Credit]]
    tier2: set[int]
    id_hit: int | None
    phrase: str | None
    rows: dict[int, Row]  # of the candidates
    idf: dict[int, float]
    total_idf: float
    name_pos: set[int]
    implicit: frozenset[int]  # words a claim holds without saying them (see ``Searcher._implicit``)


def _is_phrase_tier(s: Searcher, x: _TierContext, ci: int, lacks: tuple[str, ...], held: dict[int, Credit]) -> bool:
    """The query is the claim's id, or appears whole as a phrase in its text or search terms."""
    return ci == x.id_hit or s._is_phrase(x.phrase, x.rows[ci].text, x.rows[ci].term_text)


def _is_named_tier(s: Searcher, x: _TierContext, ci: int, lacks: tuple[str, ...], held: dict[int, Credit]) -> bool:
    """The whole query is a name or alias of an entity or topic the claim is tagged with."""
    return ci in x.tier2


def _is_all_words_tier(s: Searcher, x: _TierContext, ci: int, lacks: tuple[str, ...], held: dict[int, Credit]) -> bool:
    """The claim holds every content word of the query."""
    return not lacks


def _is_all_but_one_tier(s: Searcher, x: _TierContext, ci: int, lacks: tuple[str, ...], held: dict[int, Credit]) -> bool:
    """The claim holds every content word but one, on the terms of ``Searcher._all_but_one``."""
    return s._all_but_one(x.q, x.content, lacks, ci, x.credit, held)


# The tiers, best first, each with its named test; the first test a claim passes places it.
# A claim that passes none is a partial match (TIER_PARTIAL), never an answer.
TIER_TESTS = (
    (TIER_PHRASE, _is_phrase_tier),
    (TIER_NAMED, _is_named_tier),
    (TIER_ALL_WORDS, _is_all_words_tier),
    (TIER_ALL_BUT_ONE, _is_all_but_one_tier),
)


class Candidate(NamedTuple):
    """An entity or topic that a name query may mean."""

    tag: str  # "person:id", "organization:id", "place:id", "topic:id"
    score: float
    form: str
    via: str


def resolve_name(data: Any, query: str, kinds: Sequence[str]) -> list[Candidate]:
    """Entities (or topics) of the given kinds whose names best match ``query``, best first.
    ``data``: a ``Store``, a ``FactBase`` or compiled data.

    Every name and alias is compared by its folded key, so transliterations meet; a
    namesake is told apart by the given name (Aset vs Olzhas Abishev), and words that are
    not part of the name (a role, a place) count when they appear in the description.
    """
    store = as_store(data)
    qfold = fold_key(query)
    if not qfold:
        return []
    qwords = set(qfold.split())
    best = _names_as_written(store, query, qfold, kinds)
    if not best:
        best = _names_near(store, qfold, kinds)
    # Context: query words beyond the name that the description holds break ties.
    if len(qwords) > 1:
        _add_context(store, best, qwords)
    return sorted(best.values(), key=lambda c: (-c.score, c.tag))


def _keep_best(best: dict[str, Candidate], cand: Candidate) -> None:
    """Keep ``cand`` as its entity's candidate unless one scored as high is kept already."""
    prev = best.get(cand.tag)
    if prev is None or cand.score > prev.score:
        best[cand.tag] = cand


def _names_as_written(store: Store, query: str, qfold: str, kinds: Sequence[str]) -> dict[str, Candidate]:
    """Entities of the given kinds with a name or alias that is the query as written (100)
    or folded (97), by tag."""
    best: dict[str, Candidate] = {}
    qnorm = normalize_text(query)
    for tag, display, ffold, via, fnorm in store.forms_exact(qnorm, qfold):
        if tag.split(":", 1)[0] not in kinds:
            continue
        if fnorm == qnorm:
            score, how = 100.0, via
        elif ffold == qfold:
            score, how = 97.0, "folded"
        else:
            continue
        _keep_best(best, Candidate(tag, score, display, how))
    return best


def _names_near(store: Store, qfold: str, kinds: Sequence[str]) -> dict[str, Candidate]:
    """No name as written: the best run of query words (up to six) against each name of the
    given kinds, by tag. The other words are context (a role, a place) and cost a little, so
    a bare name wins."""
    from rapidfuzz import fuzz

    best: dict[str, Candidate] = {}
    qlist = qfold.split()
    spans = {" ".join(qlist[i:j]) for i in range(len(qlist)) for j in range(i + 1, min(len(qlist), i + 6) + 1)}
    for tag, display, ffold, _via, _norm in store.forms_near(sorted(spans)):
        if tag.split(":", 1)[0] not in kinds:
            continue
        score, how = 0.0, "fuzzy"
        for span in spans:
            ratio = fuzz.ratio(span, ffold) - (0.0 if span == qfold else 3.0)
            if ratio > score:
                score, how = ratio, ("name" if ratio >= 94.0 else "fuzzy")
        _keep_best(best, Candidate(tag, score, display, how))
    return best


def _add_context(store: Store, best: dict[str, Candidate], qwords: set[str]) -> None:
    """Raise each candidate by 2 (to at most 100) for every query word beyond its name that
    starts a word of its description (by the first five letters): a role or a place."""
    for tag, cand in list(best.items()):
        extra = qwords - set(fold_key(cand.form).split())
        desc = set(fold_key(_description(store, tag)).split())
        bonus = sum(1 for w in extra if any(d.startswith(w[:5]) for d in desc))
        if bonus:
            best[tag] = Candidate(tag, min(cand.score + 2.0 * bonus, 100.0), cand.form, cand.via)


def _description(store: Store, tag: str) -> str:
    """What the fact base says of an entity (its description and role) or a topic (its description)."""
    e = store.entity(tag)
    if e is None:
        return ""
    if tag.startswith("topic:"):
        return e[TOPIC_DESCRIPTION] or ""
    return " ".join(str(x) for x in (e[ENTITY_DESCRIPTION], e[ENTITY_ROLE]) if x)
