"""Compiling the checked fact base into its index, and writing the SQLite store.

Only a rebuild imports this module; a query never does. ``IndexBuilder`` takes claims one
at a time, each with its *fragment* (what the index needs of that claim alone: normalised
text, words, stems, lay terms; see ``fragment``), and adds them to the postings. The same
builder fills the in-memory index (``build_index``, for ``DictStore``) and the SQLite
store (``write_store``), so both rank alike.

Fragments depend only on their claim (and the people it names, whose roles it holds), so
they are kept in the store, file by file, keyed by the file's stamp: a rebuild after an
edit computes the fragments of the edited file only, and adds the rest as they were.
Concepts (the vocabulary's synonyms and translations) are matched claim by claim against
an index of their terms by first stem, not term by term against every claim.

Positions in the SQLite store are given in order of (text length, id): the shortest claim
first. Ranking breaks ties on exactly that, and a query over a common word ranks the
shortest claims first and stops when no longer claim can make the cut (see ``Searcher``).
"""

from __future__ import annotations

import contextlib
import itertools
import marshal
import os
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from . import parallel
from .query import STOPWORDS
from .store import (
    CLAIM_DATE,
    CLAIM_ID,
    CLAIM_PEOPLE,
    CLAIM_RELATED,
    CLAIM_REPORT,
    CLAIM_TERMS,
    CLAIM_TEXT,
    CLAIM_TOPICS,
    ENTITY_ALIASES,
    ENTITY_ID,
    ENTITY_KIND,
    ENTITY_NAME,
    ENTITY_ROLE,
    SQL_FORMAT,
    TOPIC_ALIASES,
    TOPIC_ID,
    TOPIC_KK,
    TOPIC_LABEL,
    TOPIC_RU,
    bigrams,
    pack,
    row_check,
    seal,
)
from .text import fold_key, fold_word, normalize_text

BUCKET = 2  # Russian and Kazakh terms are looked up by their first two letters
# Kazakh verbs that make a verb of a noun (тыйым салу, "to put a ban": to ban): the noun alone
# names the same thing
KAZAKH_LIGHT_VERBS = frozenset("салу жасау ету қылу беру болу алу".split())
TAG_FIELDS = ((CLAIM_PEOPLE, "person"), (8, "organization"), (9, "place"))
_HAS_FIGURE = re.compile(r"\d")
_CASED_WORD = re.compile(r"(?<![.!?:;(\"“] )(?<!^)\b([^\W\d_][\w'’-]*)")
BATCH = 5000  # rows a batch of executemany writes


_FOLDED: dict[str, str] = {}
_STEMMED: dict[str, str] = {}


def _fold(word: str) -> str:
    """``fold_word``, remembered: a fact base writes the same words again and again."""
    got = _FOLDED.get(word)
    if got is None:
        got = _FOLDED[word] = fold_word(word)
    return got


def _stem(word: str) -> str:
    """``english_stem``, remembered."""
    got = _STEMMED.get(word)
    if got is None:
        from .lang import english_stem

        got = _STEMMED[word] = english_stem(word)
    return got


def content_words(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def claim_terms(text: str) -> list[Any]:
    """A claim's normalised text and its distinct words as [folded key, word as written]."""
    norm = normalize_text(text)
    seen: dict[str, str] = {}
    for w in content_words(norm.split()):
        seen.setdefault(_fold(w), w)
    return [norm, [[k, w] for k, w in seen.items()]]


def _stem_seq(norm: str) -> list[str]:
    return [_STEMMED.get(w) or _stem(w) for w in norm.split()]


def roles(entities: Sequence[Sequence[Any]]) -> dict[str, str]:
    """Each person's role, without the names in it ("Nazarbayev's son-in-law; businessman" ->
    "son in law businessman"): a claim that names a person holds the words of their role, so
    "the president's son-in-law" meets the claims about him."""
    names = {
        w
        for e in entities
        if e[ENTITY_KIND] in ("person", "place")
        for form in (e[ENTITY_NAME], *e[ENTITY_ALIASES])
        for w in normalize_text(form).split()
    }
    out = {}
    for e in entities:
        role = e[ENTITY_ROLE] if e[ENTITY_KIND] == "person" and len(e) > ENTITY_ROLE and e[ENTITY_ROLE] else ""
        words = [w for w in normalize_text(role).split() if w not in names]
        if words:
            out[e[ENTITY_ID]] = " ".join(words)
    return out


def fragment(c: Sequence[Any], known: list[Any] | None, roles_of: dict[str, str], matcher: Matcher) -> list[Any]:
    """What the index needs of one claim alone (``c``: its compiled record; ``known``: its
    ``claim_terms``, when computed already): [normalised text, [[folded key, word as
    written]], lay text, lay keys, stem sequence, words written capitalised inside a
    sentence, words written in lower case, [[concept, term]] of the concepts it holds by a
    term]."""
    capital: set[str] = set()
    lower: set[str] = set()
    for w in set(_CASED_WORD.findall(c[CLAIM_TEXT])):
        (capital if w[0].isupper() else lower).add(_fold(w.lower()))
    norm, words = known if known else claim_terms(c[CLAIM_TEXT])
    lay = [normalize_text(t) for t in (c[CLAIM_TERMS] if len(c) > CLAIM_TERMS else [])]
    lay += [roles_of[ref] for ref in c[CLAIM_PEOPLE] if ref in roles_of]
    lay_keys = list(dict.fromkeys(_fold(w) for t in lay for w in content_words(t.split())))
    text_seq = _stem_seq(norm)
    lay_seq = [s for t in lay for s in ["|", *_stem_seq(t)]]
    concepts = matcher.match(text_seq, lay_seq)
    return [norm, words, " | ".join(lay), lay_keys, text_seq + lay_seq, sorted(capital), sorted(lower), concepts]


def concept_form(terms: list[list[str]], held: Sequence[int]) -> str:
    """The form a claim holds a concept by (``held``: [concept, term] from ``Matcher.match``):
    the term, or "terms " and the term when only the claim's lay terms hold it (search
    weighs what a claim says above what its lay terms say)."""
    term = terms[held[0]][held[1]]
    return f"terms {term}" if len(held) > 2 else term


def concepts_of(topics: Sequence[Sequence[Any]], vocabulary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every concept search knows: one per topic (label, aliases and its Russian and Kazakh
    words), and the vocabulary's."""
    out = [
        {
            "id": f"topic:{t[TOPIC_ID]}",
            "topics": [t[TOPIC_ID]],
            "en": [t[TOPIC_LABEL], *t[TOPIC_ALIASES]],
            "ru": list(t[TOPIC_RU]) if len(t) > TOPIC_RU else [],
            "kk": list(t[TOPIC_KK]) if len(t) > TOPIC_KK else [],
        }
        for t in topics
    ]
    out += [
        {
            "id": c["id"],
            "topics": list(c.get("topics") or []),
            "en": list(c.get("en") or []),
            "ru": list(c.get("ru") or []),
            "kk": list(c.get("kk") or []),
        }
        for c in vocabulary
    ]
    return out


class Matcher:
    """What the vocabulary and the topics give the index, computed once per edit of them:
    each concept's English terms as runs of stems, indexed by their first stem (a claim is
    matched against the terms that start with one of its stems, not against every term),
    and the Russian and Kazakh look-up tables."""

    def __init__(self, state: list[Any], source: str):
        self.ids, self.topics, self.terms, self.en_keys, self.first, self.ru, self.kk = state
        self.state = state
        self.source = source  # a digest of the topics and vocabulary it was made from

    @classmethod
    def build(cls, topics: Sequence[Sequence[Any]], vocabulary: Sequence[dict[str, Any]]) -> Matcher:
        from .lang import english_stem, russian_stem

        concepts = concepts_of(topics, vocabulary)
        en_keys: dict[str, list[int]] = {}
        first: dict[str, list[list[Any]]] = {}  # stem -> [concept, term no., " run ", words]
        ru_keys: dict[str, list[int]] = {}
        kk: dict[str, list[list[Any]]] = {}
        for ci, c in enumerate(concepts):
            for ti, term in enumerate(c["en"]):
                norm = normalize_text(term)
                if not norm:
                    continue
                run = [english_stem(w) for w in norm.split()]
                key = " ".join(run)
                if ci not in en_keys.setdefault(key, []):
                    en_keys[key].append(ci)
                first.setdefault(run[0], []).append([ci, ti, f" {key} ", len(run)])
            # words split at hyphens as a query's are (зорлық-зомбылық is two words in both)
            for term in c["ru"]:
                key = " ".join(russian_stem(w) for w in re.findall(r"\w+", term.lower()))
                if key and ci not in ru_keys.setdefault(key, []):
                    ru_keys[key].append(ci)
            for term in c["kk"]:
                words = re.findall(r"\w+", term.lower())
                if words:
                    kk.setdefault(words[0][:BUCKET], []).append([words, ci])
                if len(words) == 2 and words[1] in KAZAKH_LIGHT_VERBS:  # тыйым салу: тыйым alone
                    kk[words[0][:BUCKET]].append([words[:1], ci])
        ru: dict[str, dict[str, list[int]]] = {}
        for k, v in ru_keys.items():
            ru.setdefault(k[:BUCKET], {})[k] = v
        state = [
            [c["id"] for c in concepts],
            [c["topics"] for c in concepts],
            [c["en"] for c in concepts],
            en_keys,
            first,
            ru,
            kk,
        ]
        return cls(state, digest_of(concepts))

    def match(self, seq: Sequence[str], lay: Sequence[str] = ()) -> list[list[int]]:
        """The concepts whose English terms a claim holds as a run of its stems (``seq``, its
        text's), each with the first such term in the concept's order (the one it holds the
        concept by); then those it holds only by a run of its lay terms' stems (``lay``),
        marked [concept, term, 1] (see ``concept_form``)."""
        found = self._found(seq, {})
        in_text = len(found)
        found = self._found(lay, found) if lay else found
        return [[ci, ti] if k < in_text else [ci, ti, 1] for k, (ci, ti) in enumerate(found.items())]

    def _found(self, seq: Sequence[str], found: dict[int, int]) -> dict[int, int]:
        """``found`` (concept -> term) with the concepts ``seq`` holds and ``found`` lacks."""
        held = set(found)
        joined = None
        first = self.first
        for s in dict.fromkeys(seq):
            for ci, ti, run, length in first.get(s, ()):
                if ci in held or (ci in found and found[ci] <= ti):
                    continue
                if length > 1:
                    if joined is None:
                        joined = f" {' '.join(seq)} "
                    if run not in joined:
                        continue
                found[ci] = ti
        return found

    def topic_concepts(self) -> dict[str, list[int]]:
        """For each topic, the concepts it is a topic of, in concept order."""
        out: dict[str, list[int]] = {}
        for ci, topics in enumerate(self.topics):
            for t in topics:
                out.setdefault(t, []).append(ci)
        return out

    def held_by_tag(self, ci: int, claim_topics: Sequence[str]) -> str | None:
        """How a claim tagged with ``claim_topics`` holds concept ``ci`` by its tags, if it does."""
        for topic in self.topics[ci]:
            if topic in claim_topics:
                return f"topic {topic}"
        return None


class Postings:
    """The claims of each word, lay term, stem, tag and concept term, added claim by claim.
    A rebuild fills one a file in each worker and merges them here (``merge``)."""

    def __init__(self, concepts: int):
        self.postings: dict[str, array[int]] = {}
        self.surface: dict[str, str] = {}  # a word as first written, for each folded key
        self.first: dict[str, int] = {}  # ... and the order (``ord``) of the claim that wrote it so
        self.term_postings: dict[str, array[int]] = {}
        self.stem_postings: dict[str, array[int]] = {}
        self.by_tag: dict[str, array[int]] = {}
        # (Counters: their update counts in C)
        self.capital: Counter[str] = Counter()  # word -> claims writing it capitalised inside a sentence
        self.lower: Counter[str] = Counter()  # word -> claims writing it in lower case
        # concept -> term held -> claims holding it by that term (the first of its terms they hold)
        self.held: list[dict[str, array[int]]] = [{} for _ in range(concepts)]

    def add_claim(self, pos: int, c: Sequence[Any], frag: list[Any], order: int, concept_terms: list[list[str]]) -> None:
        """Index one claim at position ``pos`` (``frag``: its ``fragment``; ``order``: its
        place in the fact base; ``concept_terms``: the matcher's terms of each concept)."""
        words, lay_keys, seq, capital, lower, concepts = frag[1], frag[3], frag[4], frag[5], frag[6], frag[7]
        self.capital.update(capital)
        self.lower.update(lower)
        postings, surface, stems = self.postings, self.surface, self.stem_postings
        for key, w in words:  # (``_append``, written out: these two loops are most of the work)
            try:
                postings[key].append(pos)
            except KeyError:
                postings[key] = array("I", (pos,))
            if key not in surface:
                surface[key] = w
                self.first[key] = order
        for key in lay_keys:
            _append(self.term_postings, key, pos)
        for st in dict.fromkeys(seq):
            try:
                stems[st].append(pos)
            except KeyError:
                stems[st] = array("I", (pos,))
        for key in date_keys(c, words):
            _append(postings, key, pos)
        for tag in claim_tags(c):
            _append(self.by_tag, tag, pos)
        held = self.held
        for c_held in concepts:
            _append(held[c_held[0]], concept_form(concept_terms, c_held), pos)

    _TABLES = ("postings", "term_postings", "stem_postings", "by_tag")

    def dump(self) -> bytes:
        """These postings as ``marshal`` bytes: what a worker sends back (pickling the
        arrays and dicts costs several times as much)."""
        tables = [{k: v.tobytes() for k, v in getattr(self, name).items()} for name in self._TABLES]
        held = [{k: v.tobytes() for k, v in h.items()} for h in self.held]
        return marshal.dumps((tables, held, self.surface, self.first, dict(self.capital), dict(self.lower)))

    def merge_dump(self, blob: bytes) -> None:
        """Add the claims (of other positions) of postings as ``dump`` gave them, without
        making them postings first (most of a file's words are words of earlier files:
        their bytes are appended)."""
        tables, held, surface, first, capital, lower = marshal.loads(blob)
        mine_tables = [getattr(self, name) for name in self._TABLES]
        for mine, theirs in (*zip(mine_tables, tables, strict=True), *zip(self.held, held, strict=True)):
            for key, raw in theirs.items():
                got = mine.get(key)
                if got is None:
                    mine[key] = array("I", raw)
                else:
                    got.frombytes(raw)
        for key, order in first.items():
            if order < self.first.get(key, order + 1):
                self.first[key] = order
                self.surface[key] = surface[key]
        for mine_n, theirs_n in ((self.capital, capital), (self.lower, lower)):
            for w, n in theirs_n.items():
                mine_n[w] = mine_n.get(w, 0) + n


_MONTH_NAMES = "January February March April May June July August September October November December".split()
_MONTH_NAME = re.compile("|".join(_MONTH_NAMES))
_MONTH_IN_TEXT = re.compile(
    rf"\b({'|'.join(_MONTH_NAMES)})\s+(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s*[–-]\s*\d{{1,2}}(?:st|nd|rd|th)?)?,?\s+)?((?:19|20)\d\d)\b"
)


def date_keys(c: Sequence[Any], words: Sequence[Sequence[str]]) -> list[str]:
    """What a claim holds by its date and the months it names, beyond its words: its year
    (when its text does not say it) and each month as "2020-05", from its date ("2020-05-14")
    and from its text ("In May 2020", "October 1–4, 2020")."""
    date = c[CLAIM_DATE]
    keys = []
    if date and not any(k == date[:4] for k, _ in words):
        keys.append(date[:4])
    months = {date[:7]} if date and len(date) >= 7 else set()
    if _MONTH_NAME.search(c[CLAIM_TEXT]):  # (most claims name no month: a quicker look first)
        months.update(f"{y}-{_MONTH_NAMES.index(m) + 1:02d}" for m, y in _MONTH_IN_TEXT.findall(c[CLAIM_TEXT]))
    return keys + sorted(months)


def _append(table: dict[str, array[int]], key: str, pos: int) -> None:
    try:
        table[key].append(pos)
    except KeyError:
        table[key] = array("I", (pos,))


def claim_tags(c: Sequence[Any]) -> list[str]:
    """The tags of a claim's people, organisations, places and topics ("person:tulesova")."""
    return [f"{kind}:{ref}" for field, kind in TAG_FIELDS for ref in c[field]] + [f"topic:{ref}" for ref in c[CLAIM_TOPICS]]


class IndexBuilder(Postings):
    """The search index, built claim by claim (see the module's docstring)."""

    def __init__(self, entities: Sequence[Sequence[Any]], topics: Sequence[Sequence[Any]], matcher: Matcher):
        super().__init__(len(matcher.ids))
        self.entities, self.topics = entities, topics
        self.roles = roles(entities)
        self.matcher = matcher

    def add(self, pos: int, c: Sequence[Any], frag: list[Any], order: int = 0) -> None:
        """Index one claim (see ``Postings.add_claim``)."""
        self.add_claim(pos, c, frag, order, self.matcher.terms)

    # -- what the query needs, beyond the postings ---------------------------------------

    def forms(self) -> list[list[Any]]:
        """Every name form to look for in a query: [tag, display, folded key, via, normalised]."""
        forms: list[list[Any]] = []
        for e in self.entities:
            tag = f"{e[ENTITY_KIND]}:{e[ENTITY_ID]}"
            forms.append([tag, e[ENTITY_NAME], fold_key(e[ENTITY_NAME]), "name", normalize_text(e[ENTITY_NAME])])
            forms += [[tag, a, fold_key(a), "alias", normalize_text(a)] for a in e[ENTITY_ALIASES]]
            forms.append([tag, e[ENTITY_ID], fold_key(e[ENTITY_ID]), "id", normalize_text(e[ENTITY_ID])])
        for t in self.topics:
            tag = f"topic:{t[0]}"
            forms.append([tag, t[1], fold_key(t[1]), "name", normalize_text(t[1])])
            forms += [[tag, a, fold_key(a), "alias", normalize_text(a)] for a in t[2]]
            forms.append([tag, t[0], fold_key(t[0]), "id", normalize_text(t[0])])  # ids, as JSON shows them
        return [f for f in forms if f[2]]

    @staticmethod
    def partials(forms: Sequence[Sequence[Any]]) -> dict[str, list[int]]:
        """Runs of two or more words inside a longer name ("Democratic Choice" in "Democratic
        Choice of Kazakhstan"), by folded key -> positions in ``forms``."""
        partials: dict[str, dict[int, None]] = {}  # (a dict for its order: a run may be in thousands of names)
        for fi, f in enumerate(forms):
            words = f[2].split()
            for i in range(len(words)):
                for j in range(i + 2, len(words) + 1):
                    if (i, j) == (0, len(words)) or len(content_words(words[i:j])) < 2:
                        continue
                    partials.setdefault(" ".join(words[i:j]), {})[fi] = None
        return {k: list(v) for k, v in partials.items()}

    def concept_groups(self) -> list[list[list[Any]]]:
        """For each concept, its claims grouped by the term they hold it by; a claim tagged
        with a concept's topic holds it too, by the tag, when it holds none of its terms (a
        term weighs more: see ``Searcher._give_concept``)."""
        groups: list[list[list[Any]]] = []
        for ci, topics in enumerate(self.matcher.topics):
            by_term = self.held[ci]
            by_tag: dict[str, array[int]] = {}
            if topics:
                taken = set().union(*by_term.values()) if by_term else set()
                for topic in topics:
                    tagged = set(self.by_tag.get(f"topic:{topic}", ())) - taken
                    if tagged:
                        by_tag[f"topic {topic}"] = array("I", tagged)
                        taken |= tagged
            # the terms in order of their first claim, as a claim-by-claim grouping gives them
            found = [(min(ps), form, ps) for form, ps in (*by_term.items(), *by_tag.items())]
            groups.append([[form, pack(sorted(ps))] for _, form, ps in sorted(found, key=lambda g: g[0])])
        return groups

    def concept_tables(self) -> dict[str, Any]:
        """Concept look-up tables (English by stem run, Russian by stem run in buckets,
        Kazakh by words in buckets) and each concept's claims (``concept_groups``)."""
        m = self.matcher
        return {
            "concept_ids": list(m.ids),
            "concept_en": {k: pack(v) for k, v in m.en_keys.items()},
            "concept_ru": {b: {k: pack(v) for k, v in keys.items()} for b, keys in m.ru.items()},
            "concept_kk": m.kk,
            "concept_groups": self.concept_groups(),
        }

    def proper_words(self) -> list[str]:
        """Proper nouns ("QazVac", "Kazakhgate"): naming one names a thing, as an entity's name does."""
        return sorted(w for w in self.capital if w not in self.lower)

    @staticmethod
    def name_words(forms: Sequence[Sequence[Any]]) -> list[str]:
        """The words of people's names: a typo of one of them may be a made-up person."""
        return sorted({w for f in forms if f[0].startswith("person:") and f[3] != "id" for w in f[2].split()})


def _groups(held: dict[int, str]) -> list[list[Any]]:
    """A concept's claims (position -> the term held) as [term, packed positions], the terms
    in order of their first claim."""
    by_form: dict[str, list[int]] = {}
    for pos in sorted(held):
        by_form.setdefault(held[pos], []).append(pos)
    return [[form, pack(ps)] for form, ps in by_form.items()]


def build_index(
    claims: Sequence[Sequence[Any]],
    entities: Sequence[Sequence[Any]],
    topics: Sequence[Sequence[Any]],
    terms: Sequence[list[Any] | None] | None = None,
    vocabulary: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The whole index in memory, positions in fact-base order (for ``DictStore``)."""
    b = IndexBuilder(entities, topics, Matcher.build(topics, vocabulary))
    texts, term_texts = [], []
    for i, c in enumerate(claims):
        frag = fragment(c, terms[i] if terms else None, b.roles, b.matcher)
        b.add(i, c, frag, i)
        texts.append(frag[0])
        term_texts.append(frag[2])
    forms = b.forms()
    form_keys: dict[str, list[int]] = {}
    for fi, f in enumerate(forms):
        form_keys.setdefault(f[2], []).append(fi)
    index = {
        "form_keys": {k: pack(v) for k, v in form_keys.items()},
        "texts": texts,
        "term_texts": term_texts,
        "ids": [c[CLAIM_ID] for c in claims],
        "reports": [c[CLAIM_REPORT] for c in claims],
        "dates": [c[CLAIM_DATE] for c in claims],
        "lengths": [len(c[CLAIM_TEXT]) for c in claims],
        "figures": [bool(_HAS_FIGURE.search(c[CLAIM_TEXT])) for c in claims],
        "people": [list(c[CLAIM_PEOPLE]) for c in claims],
        # the word as first written, a NUL, then the packed positions: one object per word
        "postings": {k: b.surface.get(k, k).encode() + b"\0" + v.tobytes() for k, v in b.postings.items()},
        "term_postings": {k: v.tobytes() for k, v in b.term_postings.items()},
        "stem_postings": {k: v.tobytes() for k, v in b.stem_postings.items()},
        "vocab": "\n".join(sorted(set(b.postings) | set(b.term_postings))),
        "name_words": "\n".join(b.name_words(forms)),
        "proper_words": "\n".join(b.proper_words()),
        "by_tag": {k: v.tobytes() for k, v in b.by_tag.items()},
        "forms": forms,
        "partials": {k: pack(v) for k, v in b.partials(forms).items()},
    }
    index.update(b.concept_tables())
    return index


# --------------------------------------------------------------------------- records


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values or []]


def compile_records(raw: dict[str, Any]) -> dict[str, Any]:
    """Plain, marshal-able records in fixed shapes: reports, entities, topics, ratings, and
    every claim as a list (see ``store.CLAIM_*``)."""
    records = compile_singles(raw)
    report_of = {c["id"]: c["report"] for c in raw["claims"]}
    records["claims"] = [compile_claim(c, related(c["related"], report_of)) for c in raw["claims"]]
    return records


def related(links: Iterable[dict[str, Any]], report_of: Any) -> list[list[Any]]:
    """A claim's checked links as records: [id, kind, note, the linked claim's report]."""
    return [[ln["id"], ln["kind"], ln.get("note"), report_of[ln["id"]]] for ln in links]


def compile_claim(c: dict[str, Any], links: list[list[Any]]) -> list[Any]:
    """One checked claim (with its report, section, file and line) as a record."""
    return [
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
        links,
        c["file"],
        c["line"],
        _strs(c.get("terms")),
    ]


def compile_singles(raw: dict[str, Any]) -> dict[str, Any]:
    """The records of the single files: reports, entities, topics and ratings."""
    from .text import text_fragment

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
    return {"reports": reports, "entities": entities, "topics": topics, "claims": [], "ratings": ratings}


# --------------------------------------------------------------------------- the SQLite store

# The claims are keyed by their place in the fact base (``ord``): a build writes them in that
# order, appending to the table, and indexes their positions once, at the end (inserted by
# position, a claim file's claims land all over the table: at 1,000,000 claims that cost
# four times as much).
SCHEMA = """
CREATE TABLE claims (pos INTEGER NOT NULL, ord INTEGER PRIMARY KEY, id TEXT NOT NULL, text TEXT NOT NULL,
    term_text TEXT NOT NULL, length INTEGER NOT NULL, report TEXT NOT NULL, date TEXT, figure INTEGER NOT NULL,
    people TEXT NOT NULL, chk INTEGER NOT NULL, record BLOB NOT NULL);
CREATE TABLE postings (key TEXT PRIMARY KEY, written TEXT NOT NULL, first INTEGER NOT NULL, pos BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE terms (key TEXT PRIMARY KEY, pos BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE stems (key TEXT PRIMARY KEY, pos BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE tags (tag TEXT PRIMARY KEY, n INTEGER NOT NULL, pos BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE vocab (w TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE vgrams (g TEXT, n INTEGER, w TEXT, PRIMARY KEY (g, n, w)) WITHOUT ROWID;
CREATE TABLE forms (ord INTEGER PRIMARY KEY, tag TEXT, display TEXT, fold TEXT, via TEXT, norm TEXT);
CREATE TABLE fkeys (i INTEGER PRIMARY KEY, w TEXT NOT NULL);
CREATE TABLE fgrams (g TEXT, n INTEGER, c INTEGER NOT NULL, ids BLOB NOT NULL, PRIMARY KEY (g, n)) WITHOUT ROWID;
CREATE TABLE partials (key TEXT PRIMARY KEY, ords BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE words (w TEXT PRIMARY KEY, kind INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE cased (w TEXT PRIMARY KEY, cap INTEGER NOT NULL, low INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE concept_en (key TEXT PRIMARY KEY, ids BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE concept_ru (bucket TEXT, ord INTEGER, key TEXT, ids BLOB NOT NULL, PRIMARY KEY (bucket, ord)) WITHOUT ROWID;
CREATE TABLE concept_kk (bucket TEXT, ord INTEGER, run TEXT, ci INTEGER, PRIMARY KEY (bucket, ord)) WITHOUT ROWID;
CREATE TABLE concept_groups (ci INTEGER, ord INTEGER, form TEXT, pos BLOB NOT NULL, PRIMARY KEY (ci, ord)) WITHOUT ROWID;
CREATE TABLE records (kind TEXT, ord INTEGER, blob BLOB NOT NULL, PRIMARY KEY (kind, ord)) WITHOUT ROWID;
CREATE TABLE entities (tag TEXT PRIMARY KEY, blob BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE files (path BLOB PRIMARY KEY, idx INTEGER NOT NULL, key TEXT NOT NULL, blob BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE alloc (length INTEGER PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE blobs (name TEXT PRIMARY KEY, blob BLOB NOT NULL) WITHOUT ROWID;
"""
INDEXES = """
CREATE UNIQUE INDEX claims_pos ON claims (pos);
CREATE UNIQUE INDEX claims_id ON claims (id);
CREATE INDEX claims_report ON claims (report);
CREATE INDEX forms_fold ON forms (fold);
CREATE INDEX forms_norm ON forms (norm);
"""
# A claim's position: its text's length (at most 4095) in the high bits, then a number in
# order of id among claims of that length, or, for a claim added by an edit, after them. So
# positions sort as lengths do; a file's place (``ord``): the file's number, then the claim's.
LENGTH_SHIFT = 20
FILE_SHIFT = 20
MAX_LENGTH = 4095


def _path_key(path: str) -> bytes:
    """A fact file's path as bytes (a file name need not be UTF-8)."""
    return path.encode("utf-8", "surrogateescape")


def _batches(rows: Iterable[Sequence[Any]], size: int = BATCH) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(conn: Any, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    for batch in _batches(rows):
        conn.executemany(sql, batch)


def _sealed(positions: Iterable[int]) -> bytes:
    return seal(array("I", sorted(positions)).tobytes())


def digest_of(value: Any) -> str:
    """A digest of plain data by its value (``marshal``'s bytes depend on which objects are
    shared, so ``repr`` is digested)."""
    import zlib

    return f"{zlib.crc32(repr(value).encode('utf-8', 'surrogatepass')):08x}"


def fragment_basis(roles_of: dict[str, str], matcher: Matcher) -> str:
    """What every file's fragments depend on besides the file: the layout, the roles of
    people, the vocabulary (digested once a rebuild: the roles are one per person)."""
    return f"{SQL_FORMAT}:{digest_of(sorted(roles_of.items()))}:{matcher.source}"


def fragment_key(stamp: str, basis: str) -> str:
    """A file's fragment key: its stamp and ``fragment_basis``."""
    return f"{stamp}:{basis}"


def _claim_row(pos: int, order: int, c: list[Any], frag: list[Any]) -> tuple[Any, ...]:
    length, figure = len(c[CLAIM_TEXT]), int(bool(_HAS_FIGURE.search(c[CLAIM_TEXT])))
    values = (c[CLAIM_ID], frag[0], frag[2], length, c[CLAIM_REPORT], c[CLAIM_DATE], figure, " ".join(c[CLAIM_PEOPLE]))
    return (pos, order, *values, row_check(*values), seal(marshal.dumps(c)))


class Plan(NamedTuple):
    """What a rebuild knows before it writes: the compiled records, each claim's search
    terms as computed on reading, the vocabulary, each claim file's stamp and what the
    store depends on."""

    records: dict[str, Any]
    terms: list[Any]  # per claim: ``claim_terms`` as computed on reading, or None
    vocabulary: list[dict[str, Any]]
    stamps: dict[str, str]  # claim file (path in the fact base) -> stamp
    singles: str  # a digest of the single files' and schemas' stamps
    meta: dict[str, Any]


def _files(records: dict[str, Any]) -> list[tuple[str, int, int]]:
    """The claim files in fact-base order: (path, first claim, end) in ``records["claims"]``."""
    claims, out, i = records["claims"], [], 0
    while i < len(claims):
        j = i
        while j < len(claims) and claims[j][13] == claims[i][13]:
            j += 1
        out.append((claims[i][13], i, j))
        i = j
    return out


def _stored_keys(old: Any) -> dict[str, str]:
    """Each claim file's fragment key in a previous store (none when there is none)."""
    if old is None:
        return {}
    try:
        return {bytes(p).decode("utf-8", "surrogateescape"): key for p, key in old.execute("SELECT path, key FROM files")}
    except Exception:  # any damage: compute anew
        return {}


def _kept_fragments(old: Any, path: str, key: str, n: int) -> list[Any] | None:
    """A claim file's fragments as a previous store kept them, if still good for ``key``."""
    if old is None:
        return None

    from .store import loads

    try:
        row = old.execute("SELECT key, blob FROM files WHERE path = ?", (_path_key(path),)).fetchone()
        if row is None or row[0] != key:
            return None
        got = loads(row[1])
    except Exception:  # any damage: compute anew
        return None
    return got if isinstance(got, list) and len(got) == n else None


class FilePart(NamedTuple):
    """Claim files compiled for the store: each file's number and fragments (sealed), their
    claims' rows and postings."""

    files: list[tuple[int, bytes]]
    rows: list[tuple[Any, ...]]
    postings: Postings | bytes  # (bytes: as a worker sent them)


def _file_part_bytes(item: tuple[int, int, int, list[Any] | None]) -> bytes:
    """``_file_part`` as ``marshal`` bytes, as a worker sends it back."""
    return part_bytes(_file_part(item))


def part_bytes(part: FilePart) -> bytes:
    """A file part as ``marshal`` bytes, as a worker sends it back."""
    postings = part.postings if isinstance(part.postings, bytes) else part.postings.dump()
    return marshal.dumps((part.files, part.rows, postings))


def file_part_loads(blob: bytes) -> FilePart:
    """A file part from ``part_bytes``, its postings left as bytes (``Postings.merge_dump``)."""
    files, rows, postings = marshal.loads(blob)
    return FilePart(files, rows, postings)


def _file_part(item: tuple[int, int, int, list[Any] | None]) -> FilePart:
    """Claim file ``idx`` (claims ``i`` to ``j``) compiled: its fragments computed unless
    given (kept from the previous store). Runs in a worker, from ``parallel.WORK``."""
    idx, i, j, frags = item
    claims, terms, roles_of, matcher, pos_of = parallel.WORK
    if frags is None:
        frags = [fragment(claims[k], terms[k], roles_of, matcher) for k in range(i, j)]
    return compiled_part(idx, claims[i:j], frags, pos_of[i:j], matcher)


def compiled_part(
    idx: int,
    claims: Sequence[Any],
    frags: list[Any],
    positions: Sequence[int],
    matcher: Matcher,
    into: FilePart | None = None,
    sealed: bytes | None = None,
) -> FilePart:
    """Claim file ``idx`` for the store, from its claims, their fragments and positions
    (added to ``into``, files compiled before it, when given; ``sealed``: the fragments as
    the files table keeps them, when made already)."""
    part = into or FilePart([], [], Postings(len(matcher.ids)))
    postings, rows = part.postings, part.rows
    assert isinstance(postings, Postings)
    for k, c in enumerate(claims):
        order = (idx << FILE_SHIFT) | k
        postings.add_claim(positions[k], c, frags[k], order, matcher.terms)
        rows.append(_claim_row(positions[k], order, c, frags[k]))
    part.files.append((idx, sealed or seal(marshal.dumps(frags))))
    return part


def _positions(claims: Sequence[Sequence[Any]]) -> tuple[array[int], dict[int, int]]:
    return positions(array("H", [min(len(c[CLAIM_TEXT]), MAX_LENGTH) for c in claims]), [c[CLAIM_ID] for c in claims])


def positions(lengths: Sequence[int], ids: Sequence[str]) -> tuple[array[int], dict[int, int]]:
    """Each claim's position, by (length, id): the shortest claim first; and for each
    length, the next number free (``lengths``: each claim's, at most ``MAX_LENGTH``)."""
    order = sorted(range(len(ids)), key=lambda i: (lengths[i], ids[i]))
    pos_of = array("I", bytes(4 * len(ids)))
    alloc: dict[int, int] = {}
    for i in order:
        length = lengths[i]
        seq = alloc.get(length, 0)
        alloc[length] = seq + 1
        pos_of[i] = (length << LENGTH_SHIFT) | seq
    return pos_of, alloc


CLAIMS_INSERT = "INSERT INTO claims VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"


def write_store(path: str, plan: Plan, old: Any = None) -> None:
    """Write the whole store for ``plan`` to the new file ``path``, file by file; ``old``
    (an open previous store, or None) lends the fragments of unchanged files."""
    records = plan.records
    w = StoreWriter(path)
    matcher = Matcher.build(records["topics"], plan.vocabulary)
    b = IndexBuilder(records["entities"], records["topics"], matcher)
    _write_claims(w.conn, plan, b, old)
    files_digest = digest_of([f for f, _, _ in _files(records)])
    meta = {**plan.meta, "claims": len(records["claims"]), "singles": plan.singles, "files": files_digest}
    write_index(w, b, records, meta)


def write_index(w: StoreWriter, b: IndexBuilder, records: dict[str, Any], meta: dict[str, Any], forms: Any = None) -> None:
    """The claims written: the rest of the store (postings, names, concepts, records), its
    indexes and its meta; the store finished. ``forms``: the names' tables' forms, when
    they are written already (``_write_forms``)."""
    _write_postings(w.conn, b)
    forms = _write_forms(w.conn, b) if forms is None else forms
    _write_words(w.conn, b, forms)
    _write_concepts(w.conn, b)
    _write_records(w.conn, records, b.matcher)
    for statement in INDEXES.split(";"):
        if statement.strip():
            w.conn.execute(statement)
    # (positions given in (length, id) order: ties of score and length are in position order)
    w.finish({**meta, "ordered": 1})


def _write_claims(conn: Any, plan: Plan, b: IndexBuilder, old: Any) -> None:
    """The claims, file by file, into the claims and files tables, and into ``b``'s
    postings: the files whose fragments the previous store kept first, here; then the
    others, computed on every core."""
    claims = plan.records["claims"]
    pos_of, alloc = _positions(claims)
    files = _files(plan.records)
    basis = fragment_basis(b.roles, b.matcher)
    keys = [fragment_key(plan.stamps[f], basis) if plan.stamps.get(f) else "" for f, _, _ in files]
    stored = _stored_keys(old)
    kept: list[tuple[int, int, int, list[Any] | None]] = []
    todo: list[tuple[int, int, int, list[Any] | None]] = []
    for idx, (file, i, j) in enumerate(files):
        frags = _kept_fragments(old, file, keys[idx], j - i) if keys[idx] and stored.get(file) == keys[idx] else None
        (todo if frags is None else kept).append((idx, i, j, frags))
    parallel.WORK = (claims, plan.terms, b.roles, b.matcher, pos_of)
    try:
        parts = map(file_part_loads, parallel.in_parallel(_file_part_bytes, todo, sum(j - i for _, i, j, _ in todo)))
        take_parts(conn, itertools.chain(map(_file_part, kept), parts), [f for f, _, _ in files], keys, b)
    finally:
        parallel.WORK = None
    _insert(conn, "INSERT INTO alloc VALUES (?,?)", alloc.items())


def take_parts(conn: Any, parts: Iterable[FilePart], paths: Sequence[str], keys: Sequence[str], b: Postings) -> None:
    """Compiled claim files, a file at a time, into the claims and files tables and ``b``'s
    postings (``paths``, ``keys``: each file's path and fragment key)."""
    for part in parts:
        for idx, frags in part.files:
            conn.execute("INSERT INTO files VALUES (?,?,?,?)", (_path_key(paths[idx]), idx, keys[idx], frags))
        conn.executemany(CLAIMS_INSERT, part.rows)
        b.merge_dump(part.postings if isinstance(part.postings, bytes) else part.postings.dump())


def _write_postings(conn: Any, b: IndexBuilder) -> None:
    """Words, lay terms, stems and tags with their claims; the vocabulary and its bigrams
    (the typo index). The postings are let go once written."""
    _insert(
        conn,
        "INSERT INTO postings VALUES (?,?,?,?)",
        ((k, b.surface.get(k, k), b.first.get(k, -1), v) for k, v in _sealed_all(b.postings)),
    )
    _insert(conn, "INSERT INTO terms VALUES (?,?)", _sealed_all(b.term_postings))
    _insert(conn, "INSERT INTO stems VALUES (?,?)", _sealed_all(b.stem_postings))
    _insert(conn, "INSERT INTO tags VALUES (?,?,?)", ((t, len(v), _sealed(v)) for t, v in b.by_tag.items()))
    vocab = sorted(set(b.postings) | set(b.term_postings))
    _insert(conn, "INSERT INTO vocab VALUES (?)", ((w_,) for w_ in vocab))
    _insert(conn, "INSERT INTO vgrams VALUES (?,?,?)", _gram_rows(vocab))
    b.postings.clear()
    b.term_postings.clear()
    b.stem_postings.clear()


def _gram_rows(keys: Sequence[str]) -> Iterator[tuple[str, int, str]]:
    """(bigram, length, key) for each bigram of each of the (sorted, distinct) vocabulary
    ``keys``, in that order: the order of the table's keys, so that SQLite appends them
    (written in any other order, millions of bigrams land all over a table larger than its
    cache). Each bigram's keys are held as numbers in a packed array, not as rows."""
    lengths = array("H", [min(len(k), 65535) for k in keys])
    by_gram: dict[str, array[int]] = {}
    for i, k in enumerate(keys):
        for g in bigrams(k):
            _append(by_gram, g, i)
    for g in sorted(by_gram):
        # (a stable sort by length: each length's keys stay in order)
        for i in sorted(by_gram.pop(g), key=lengths.__getitem__):
            k = keys[i]
            yield g, len(k), k


def _packed_grams(keys: list[str]) -> Iterator[tuple[str, int, int, bytes]]:
    """(bigram, length, how many, the numbers of the keys of that length holding it, packed
    and sealed) for each bigram and length among ``keys``, in that order (the table's)."""
    by: dict[tuple[str, int], array[int]] = {}
    for i, k in enumerate(keys):
        n = len(k)
        for g in bigrams(k):
            try:
                by[g, n].append(i)
            except KeyError:
                by[g, n] = array("I", (i,))
    for gn in sorted(by):
        ids = by.pop(gn)
        yield gn[0], gn[1], len(ids), seal(ids.tobytes())


def _sealed_all(table: dict[str, array[int]]) -> Iterator[tuple[str, bytes]]:
    """Each key of ``table`` with its claims sorted and sealed, as the store keeps them, in
    order of key; sorted on every core when there are many (a worker forked now reads the
    table it inherits, and sends back a run of keys' blobs)."""
    keys = sorted(table)
    runs = [keys[i : i + 2000] for i in range(0, len(keys), 2000)]
    parallel.WORK = table
    try:
        for got in parallel.in_parallel(_sealed_run, runs, sum(map(len, table.values())) // 50):
            yield from marshal.loads(got)
    finally:
        parallel.WORK = None


def _sealed_run(keys: list[str]) -> bytes:
    table = parallel.WORK
    return marshal.dumps([(k, _sealed(table[k])) for k in keys])


def _write_forms(conn: Any, b: IndexBuilder) -> list[list[Any]]:
    """Every name form, its bigrams and the runs of words inside longer names."""
    forms = b.forms()
    _insert(conn, "INSERT INTO forms VALUES (?,?,?,?,?,?)", ((fi, *f) for fi, f in enumerate(forms)))
    keys = list(dict.fromkeys(f[2] for f in forms))  # each fold key, in the order of its first form
    _insert(conn, "INSERT INTO fkeys VALUES (?,?)", enumerate(keys))
    _insert(conn, "INSERT INTO fgrams VALUES (?,?,?,?)", _packed_grams(keys))
    _insert(conn, "INSERT INTO partials VALUES (?,?)", ((k, seal(pack(v))) for k, v in b.partials(forms).items()))
    return forms


def _write_words(conn: Any, b: IndexBuilder, forms: list[list[Any]]) -> None:
    """Words of people's names and proper nouns; how often each word is written capitalised
    inside a sentence and in lower case."""
    kinds = dict.fromkeys(b.name_words(forms), 1)
    for w_ in b.proper_words():
        kinds[w_] = kinds.get(w_, 0) | 2
    _insert(conn, "INSERT INTO words VALUES (?,?)", kinds.items())
    cased = {w_: [n, 0] for w_, n in b.capital.items()}
    for w_, n in b.lower.items():
        cased.setdefault(w_, [0, 0])[1] = n
    _insert(conn, "INSERT INTO cased VALUES (?,?,?)", ((w_, c, lo) for w_, (c, lo) in cased.items()))


def _write_concepts(conn: Any, b: IndexBuilder) -> None:
    """The vocabulary's look-up tables and each concept's claims."""
    tables = b.concept_tables()
    _insert(conn, "INSERT INTO concept_en VALUES (?,?)", ((k, seal(v)) for k, v in tables["concept_en"].items()))
    _insert(
        conn,
        "INSERT INTO concept_ru VALUES (?,?,?,?)",
        ((bucket, o, k, seal(v)) for bucket, keys in tables["concept_ru"].items() for o, (k, v) in enumerate(keys.items())),
    )
    _insert(
        conn,
        "INSERT INTO concept_kk VALUES (?,?,?,?)",
        (
            (bucket, o, " ".join(run), ci)
            for bucket, entries in tables["concept_kk"].items()
            for o, (run, ci) in enumerate(entries)
        ),
    )
    _insert(
        conn,
        "INSERT INTO concept_groups VALUES (?,?,?,?)",
        ((ci, o, form, seal(p)) for ci, groups in enumerate(tables["concept_groups"]) for o, (form, p) in enumerate(groups)),
    )


def _write_records(conn: Any, records: dict[str, Any], matcher: Matcher) -> None:
    """Reports, entities, topics and ratings as records; each entity and topic by its tag;
    the concept matcher, for an edit's rebuild."""
    for kind, key in (("report", "reports"), ("entity", "entities"), ("topic", "topics"), ("rating", "ratings")):
        _insert(
            conn, "INSERT INTO records VALUES (?,?,?)", ((kind, o, seal(marshal.dumps(r))) for o, r in enumerate(records[key]))
        )
    _insert(
        conn,
        "INSERT INTO entities VALUES (?,?)",
        [(f"{e[ENTITY_KIND]}:{e[ENTITY_ID]}", seal(marshal.dumps(e))) for e in records["entities"]]
        + [(f"topic:{t[TOPIC_ID]}", seal(marshal.dumps(t))) for t in records["topics"]],
    )
    conn.execute("INSERT INTO blobs VALUES ('matcher', ?)", (seal(marshal.dumps([matcher.state, matcher.source])),))


class StoreWriter:
    """A new store file, written in one transaction with no journal: a file that is not
    finished is never renamed into place (see ``write_new_store``)."""

    def __init__(self, path: str, create: bool = True, any_thread: bool = False):
        import sqlite3

        # (``any_thread``: a thread of the writer's own writes part of the store, never at
        # the same time as another)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not any_thread)
        conn = self.conn
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -8192"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        if create:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def finish(self, meta: dict[str, Any]) -> None:
        conn = self.conn
        # the meta table last: its page is the file's last, its rows each with a check, the
        # first row written in the page's last bytes (a page fills from its end)
        conn.execute("DROP TABLE IF EXISTS meta")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, chk INTEGER NOT NULL) WITHOUT ROWID")
        rows = sorted(meta.items(), key=lambda kv: kv[0] != "fingerprint")
        conn.executemany("INSERT INTO meta VALUES (?, ?, ?)", [(k, str(v), row_check(k, str(v))) for k, v in rows])
        conn.execute("COMMIT")
        ok = conn.execute("PRAGMA quick_check").fetchone()
        conn.close()
        if not ok or ok[0] != "ok":
            raise OSError(5, f"the new cache failed SQLite's check: {ok}")


# --------------------------------------------------------------------------- an edit


def patch_store(path: str, plan: Plan, old_meta: dict[str, str], old: Any, most: int) -> bool:
    """Bring the copy of the previous store at ``path`` up to date with ``plan`` when only
    claim files changed (at most ``most`` of them, the same files as before): their claims
    are taken out of every table they are in and put back as they now are; the rest of the
    store stays as it was. False (``path`` then unusable) when the edit is not of that kind
    or the previous store cannot serve; the caller then writes the store whole."""
    from .store import loads

    records = plan.records
    files = _files(records)
    if old_meta.get("singles") != plan.singles or old_meta.get("files") != digest_of([f for f, _, _ in files]):
        return False
    try:
        kept = {
            bytes(p).decode("utf-8", "surrogateescape"): (idx, key)
            for p, idx, key in old.execute("SELECT path, idx, key FROM files")
        }
        matcher = Matcher(*loads(old.execute("SELECT blob FROM blobs WHERE name = 'matcher'").fetchone()[0]))
    except Exception:  # any damage: write it whole
        return False
    roles_of = roles(records["entities"])
    basis = fragment_basis(roles_of, matcher)
    changed = []
    for idx, (file, i, j) in enumerate(files):
        key = fragment_key(plan.stamps.get(file, ""), basis)
        if file not in kept or kept[file][0] != idx:
            return False
        if kept[file][1] != key or not plan.stamps.get(file):
            changed.append((idx, file, i, j, key))
    if len(changed) > most:
        return False
    w = StoreWriter(path, create=False)
    patch = _Patch(w.conn, plan, matcher, roles_of)
    for idx, file, i, j, key in changed:
        if not patch.replace_file(idx, file, i, j, key):
            w.conn.close()
            return False
    patch.finish({idx for idx, *_ in changed})
    w.finish({**plan.meta, "claims": len(records["claims"]), "singles": plan.singles, "files": old_meta["files"], "ordered": 0})
    return True


class _Patch:
    """An edit's changes to a copy of the previous store: what the edited files' claims held
    (``gone``) and hold now (``come``) in each table, merged into the tables at the end."""

    TABLES = ("postings", "terms", "stems", "tags")

    def __init__(self, conn: Any, plan: Plan, matcher: Matcher, roles_of: dict[str, str]):
        self.conn, self.plan, self.matcher, self.roles_of = conn, plan, matcher, roles_of
        self.gone: dict[str, dict[str, set[int]]] = {t: {} for t in self.TABLES}
        self.come: dict[str, dict[str, list[int]]] = {t: {} for t in self.TABLES}
        self.written: dict[str, tuple[int, str]] = {}  # key -> (ord, as written) of the first new claim writing it
        self.cased: dict[str, list[int]] = {}
        self.concepts: dict[int, dict[int, str | None]] = {}  # concept -> position -> term held (None: taken out)
        self.old_related: set[str] = set()
        self.changed_ids: set[str] = set()
        self.topic_concepts = matcher.topic_concepts()
        self.alloc = dict(conn.execute("SELECT length, next FROM alloc").fetchall())
        self.emptied: set[str] = set()

    def _note(self, table: str, key: str, pos: int, sign: int) -> None:
        if sign < 0:
            self.gone[table].setdefault(key, set()).add(pos)
        else:
            self.come[table].setdefault(key, []).append(pos)

    def _index(self, c: Sequence[Any], frag: list[Any], pos: int, sign: int) -> None:
        """Note what claim ``c`` holds at ``pos``: taken out (``sign`` -1) or put in (+1)."""
        words = frag[1]
        for key, _ in words:
            self._note("postings", key, pos, sign)
        for key in date_keys(c, words):
            self._note("postings", key, pos, sign)
        for key in frag[3]:
            self._note("terms", key, pos, sign)
        for st in dict.fromkeys(frag[4]):
            self._note("stems", st, pos, sign)
        for tag in claim_tags(c):
            self._note("tags", tag, pos, sign)
        for col, words_ in ((0, frag[5]), (1, frag[6])):
            for w_ in words_:
                self.cased.setdefault(w_, [0, 0])[col] += sign
        self._index_concepts(c, frag, pos, sign)

    def _index_concepts(self, c: Sequence[Any], frag: list[Any], pos: int, sign: int) -> None:
        m = self.matcher
        held: dict[int, str | None] = {h[0]: concept_form(m.terms, h) if sign > 0 else None for h in frag[7]}
        for topic in c[CLAIM_TOPICS]:
            for ci in self.topic_concepts.get(topic, ()):
                if ci not in held:
                    held[ci] = m.held_by_tag(ci, c[CLAIM_TOPICS]) if sign > 0 else None
        for ci, form in held.items():
            self.concepts.setdefault(ci, {})[pos] = form

    def replace_file(self, idx: int, file: str, i: int, j: int, key: str) -> bool:
        """Take claim file ``idx``'s claims out and put them back as they now are (claims
        ``i`` to ``j`` of the plan); False when the previous store cannot serve."""
        from .store import loads

        conn, claims = self.conn, self.plan.records["claims"]
        lo, hi = idx << FILE_SHIFT, (idx + 1) << FILE_SHIFT
        old_rows = conn.execute("SELECT pos, ord, record FROM claims WHERE ord >= ? AND ord < ?", (lo, hi)).fetchall()
        blob = conn.execute("SELECT blob FROM files WHERE path = ?", (_path_key(file),)).fetchone()
        old_frags = loads(blob[0]) if blob else None
        if not isinstance(old_frags, list) or len(old_frags) != len(old_rows):
            return False
        for pos, order, record in sorted(old_rows, key=lambda r: r[1]):
            c = loads(record)
            self.changed_ids.add(c[CLAIM_ID])
            self.old_related.update(ln[0] for ln in c[CLAIM_RELATED])
            self._index(c, old_frags[order - lo], pos, -1)
        conn.execute("DELETE FROM claims WHERE ord >= ? AND ord < ?", (lo, hi))
        frags = [fragment(claims[k], self.plan.terms[k], self.roles_of, self.matcher) for k in range(i, j)]
        rows = []
        for k in range(i, j):
            c, frag, order = claims[k], frags[k - i], lo | (k - i)
            pos = self._allocate(min(len(c[CLAIM_TEXT]), MAX_LENGTH))
            if pos is None:
                return False
            self.changed_ids.add(c[CLAIM_ID])
            self._index(c, frag, pos, 1)
            for key_, w_ in frag[1]:
                if key_ not in self.written or order < self.written[key_][0]:
                    self.written[key_] = (order, w_)
            rows.append(_claim_row(pos, order, c, frag))
        conn.executemany(CLAIMS_INSERT, rows)
        conn.execute("UPDATE files SET key = ?, blob = ? WHERE path = ?", (key, seal(marshal.dumps(frags)), _path_key(file)))
        return True

    def _allocate(self, length: int) -> int | None:
        """A new claim's position among those of its length (None: that length is full)."""
        seq = self.alloc.get(length, 0)
        if seq >= 1 << LENGTH_SHIFT:
            return None
        self.alloc[length] = seq + 1
        return (length << LENGTH_SHIFT) | seq

    def finish(self, edited: set[int]) -> None:
        """Merge every change into the tables."""
        self.conn.executemany("INSERT OR REPLACE INTO alloc VALUES (?, ?)", self.alloc.items())
        self._merge_tables()
        new_keys = self._merge_postings(edited)
        self._merge_vocab(new_keys)
        self._merge_cased()
        self._merge_concepts()
        self._merge_links()

    def _merged(self, table: str, key: str, current: bytes | None) -> array[int]:
        from .store import unpack, unseal

        positions = set(unpack(unseal(current))) if current is not None else set()
        positions -= self.gone[table].get(key, set())
        positions.update(self.come[table].get(key, ()))
        return array("I", sorted(positions))

    def _merge_tables(self) -> None:
        """Lay terms, stems and tags."""
        conn = self.conn
        for table, col in (("terms", "key"), ("stems", "key"), ("tags", "tag")):
            for key in self.gone[table].keys() | self.come[table].keys():
                row = conn.execute(f"SELECT pos FROM {table} WHERE {col} = ?", (key,)).fetchone()
                now = self._merged(table, key, row[0] if row else None)
                if not now:
                    conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (key,))
                    if table == "terms":
                        self.emptied.add(key)
                elif table == "tags":
                    conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (key, len(now), seal(now.tobytes())))
                else:
                    conn.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (key, seal(now.tobytes())))

    def _merge_postings(self, edited: set[int]) -> set[str]:
        """The words' postings, each with the word as the first claim holding it writes it;
        the words no claim held before."""
        conn, written = self.conn, self.written
        new_keys: set[str] = set()
        frags_of: dict[bytes, Any] = {}
        for key in self.gone["postings"].keys() | self.come["postings"].keys():
            row = conn.execute("SELECT written, first, pos FROM postings WHERE key = ?", (key,)).fetchone()
            now = self._merged("postings", key, row[2] if row else None)
            if not now:
                conn.execute("DELETE FROM postings WHERE key = ?", (key,))
                self.emptied.add(key)
                continue
            if row is None:
                new_keys.add(key)
            surface, first = (row[0], row[1]) if row else (key, -1)
            if first >= 0 and (first >> FILE_SHIFT) in edited:
                # the claim that first wrote it was rewritten: the first one now, in fact-base
                # order. Claims of unchanged files all come after that file's (else one of them
                # would have been first), so a claim of that file that writes it still is first.
                if key in written and written[key][0] >> FILE_SHIFT <= first >> FILE_SHIFT:
                    surface, first = written[key][1], written[key][0]
                else:
                    surface, first = _first_writer(conn, key, now, frags_of)
            elif key in written and (first < 0 or written[key][0] < first):
                surface, first = written[key][1], written[key][0]
            conn.execute("INSERT OR REPLACE INTO postings VALUES (?, ?, ?, ?)", (key, surface, first, seal(now.tobytes())))
        return new_keys

    def _merge_vocab(self, new_keys: set[str]) -> None:
        """The vocabulary: words no claim holds any more out, new ones in."""
        conn = self.conn
        for key in self.emptied:
            both = "SELECT 1 FROM postings WHERE key = ? UNION ALL SELECT 1 FROM terms WHERE key = ?"
            if conn.execute(both, (key, key)).fetchone() is None:
                conn.execute("DELETE FROM vocab WHERE w = ?", (key,))
                conn.execute("DELETE FROM vgrams WHERE w = ? AND n = ?", (key, len(key)))
        for key in new_keys | self.come["terms"].keys():
            if conn.execute("SELECT 1 FROM vocab WHERE w = ?", (key,)).fetchone() is None:
                conn.execute("INSERT INTO vocab VALUES (?)", (key,))
                conn.executemany("INSERT INTO vgrams VALUES (?, ?, ?)", [(g, len(key), key) for g in bigrams(key)])

    def _merge_cased(self) -> None:
        """Proper nouns: written capitalised inside a sentence somewhere, in lower case nowhere."""
        conn = self.conn
        for w_, (dc, dl) in self.cased.items():
            row = conn.execute("SELECT cap, low FROM cased WHERE w = ?", (w_,)).fetchone()
            cap, low = (row[0] + dc, row[1] + dl) if row else (dc, dl)
            if cap <= 0 and low <= 0:
                conn.execute("DELETE FROM cased WHERE w = ?", (w_,))
            else:
                conn.execute("INSERT OR REPLACE INTO cased VALUES (?, ?, ?)", (w_, cap, low))
            kind_row = conn.execute("SELECT kind FROM words WHERE w = ?", (w_,)).fetchone()
            kind = ((kind_row[0] if kind_row else 0) & ~2) | (2 if cap > 0 and low <= 0 else 0)
            if kind:
                conn.execute("INSERT OR REPLACE INTO words VALUES (?, ?)", (w_, kind))
            elif kind_row:
                conn.execute("DELETE FROM words WHERE w = ?", (w_,))

    def _merge_concepts(self) -> None:
        """Each concept a claim of the edited files held or holds, regrouped."""
        from .store import unpack, unseal

        conn = self.conn
        for ci, change in self.concepts.items():
            held: dict[int, str] = {}
            for form, packed in conn.execute("SELECT form, pos FROM concept_groups WHERE ci = ? ORDER BY ord", (ci,)):
                for pos in unpack(unseal(packed)):
                    held[pos] = form
            for pos, form in change.items():
                if form is None:
                    held.pop(pos, None)
            for pos, form in change.items():
                if form is not None:
                    held[pos] = form
            conn.execute("DELETE FROM concept_groups WHERE ci = ?", (ci,))
            rows = [(ci, o, f, seal(p)) for o, (f, p) in enumerate(_groups(held))]
            conn.executemany("INSERT INTO concept_groups VALUES (?, ?, ?, ?)", rows)

    def _merge_links(self) -> None:
        """Claims elsewhere linked to or from the edited ones carry the link back in their record."""
        claims = self.plan.records["claims"]
        linked = {ln[0] for c in claims if c[CLAIM_ID] in self.changed_ids for ln in c[CLAIM_RELATED]}
        others = (self.old_related | linked) - self.changed_ids
        for c in claims:
            if c[CLAIM_ID] in others:
                self.conn.execute("UPDATE claims SET record = ? WHERE id = ?", (seal(marshal.dumps(c)), c[CLAIM_ID]))


def _first_writer(conn: Any, key: str, positions: array[int], frags_of: dict[bytes, Any]) -> tuple[str, int]:
    """The word ``key`` as the first claim holding it (in fact-base order) writes it."""
    from .store import loads

    found: tuple[int, str] | None = None
    for i in range(0, len(positions), 900):
        chunk = list(positions[i : i + 900])
        for order, path in conn.execute(
            f"SELECT c.ord, f.path FROM claims c JOIN files f ON f.idx = c.ord >> {FILE_SHIFT} "
            f"WHERE c.pos IN ({','.join('?' * len(chunk))}) ORDER BY c.ord",
            chunk,
        ):
            if found is not None and order >= found[0]:
                break
            if path not in frags_of:
                frags_of[path] = loads(conn.execute("SELECT blob FROM files WHERE path = ?", (path,)).fetchone()[0])
            form = dict(map(tuple, frags_of[path][order & ((1 << FILE_SHIFT) - 1)][1])).get(key)
            if form is not None:
                found = (order, form)
                break
    return (found[1], found[0]) if found else (key, -1)


def _write_or_patch(fd: int, path: str, name: str, dir_fd: int, plan: Plan, old: Any, old_meta: dict[str, str] | None) -> None:
    """The new store at ``path`` (open as ``fd``): the previous one copied and patched when
    ``patch_store`` can, else written whole."""
    import shutil
    import sqlite3

    patched = False
    if old is not None and old_meta is not None:
        most = max(8, len(plan.stamps) // 20)
        try:
            src = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=dir_fd)
            try:
                with os.fdopen(src, "rb", closefd=False) as fin, os.fdopen(fd, "wb", closefd=False) as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
            finally:
                os.close(src)
            patched = patch_store(path, plan, old_meta, old, most)
        except (OSError, sqlite3.Error):
            patched = False
        if not patched:
            os.ftruncate(fd, 0)
    if not patched:
        write_store(path, plan, old)


def new_temp_file(dir_fd: int, name: str) -> tuple[int, str] | None:
    """A new file of this user's alone in the (checked) cache folder, open for reading and
    writing, never through a link, and its name; None when it cannot be made."""
    import secrets

    temp = f".{name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(temp, flags, 0o600, dir_fd=dir_fd), temp
    except OSError:
        return None


def write_new_store(
    dir_fd: int, folder: str, name: str, plan: Plan | None, old: Any, old_meta: dict[str, str] | None, write: Any = None
) -> bool:
    """Write the store to a new file in the (checked) cache folder and rename it over
    ``name``: readers that have the old file open keep reading the old file. After an edit
    of a few claim files, the new file starts as a copy of the previous store, brought up
    to date (``patch_store``); otherwise it is written whole, with the fragments of the
    unchanged files taken from the previous store. Anything in the way that is not a
    regular file is removed first (the folder is the user's own). False when it cannot
    be written (the run then goes on without a cache). ``write`` (path -> None), when
    given, writes the new file instead (a build in a stream: see ``stream.py``)."""
    import sqlite3
    import stat

    made = new_temp_file(dir_fd, name)
    if made is None:
        return False
    fd, temp = made
    try:
        proc = f"/proc/self/fd/{dir_fd}"
        path = f"{proc}/{temp}" if os.path.exists(proc) else os.path.join(folder, temp)
        if write is not None:
            write(path)
        elif plan is not None:
            _write_or_patch(fd, path, name, dir_fd, plan, old, old_meta)
        # no fsync: a file cut short by a crash fails its size check and is rebuilt
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
                os.unlink(name, dir_fd=dir_fd)
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return True
    except (OSError, sqlite3.Error, UnicodeError, ValueError, OverflowError):
        # (a text SQLite cannot hold, such as a lone surrogate from a YAML escape: no cache)
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        return False
    finally:
        os.close(fd)
