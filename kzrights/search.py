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

import bisect
import math
import re
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from .query import STOPWORDS, Query, Word, analyse
from .text import fold_key, fold_word, normalize_text

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
_HAS_FIGURE = re.compile(r"\d")

# Compiled layout (plain data that marshal stores). A claim record is a list in this order:
ENTITY_KIND, ENTITY_ID, ENTITY_NAME, ENTITY_ALIASES, ENTITY_ROLE = 0, 1, 2, 3, 5
CLAIM_ID, CLAIM_TEXT, CLAIM_REPORT = 0, 1, 2
CLAIM_DATE, CLAIM_PEOPLE, CLAIM_ORGS, CLAIM_PLACES, CLAIM_TOPICS = 6, 7, 8, 9, 10
CLAIM_TERMS = 15  # the claim's lay search terms
TOPIC_ID, TOPIC_LABEL, TOPIC_ALIASES, TOPIC_RU, TOPIC_KK = 0, 1, 2, 4, 5
TAG_FIELDS = ((CLAIM_PEOPLE, "person"), (CLAIM_ORGS, "organization"), (CLAIM_PLACES, "place"))


def pack(positions: Iterable[int]) -> bytes:
    """Claim positions as packed unsigned ints: one bytes object loads far faster than a
    list of ints, and a query unpacks only the lists it needs."""
    return array("I", positions).tobytes()


def unpack(packed: bytes) -> array[int]:
    out = array("I")
    out.frombytes(packed)
    return out


def posting(entry: bytes) -> tuple[str, array[int]]:
    """A postings entry: the word as written, and the positions of the claims holding it."""
    if not entry:
        return "", array("I")
    cut = entry.index(0)
    return entry[:cut].decode(), unpack(entry[cut + 1 :])


def content_words(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def claim_terms(text: str) -> list[Any]:
    """A claim's normalised text and its distinct words as [folded key, word as written]."""
    norm = normalize_text(text)
    seen: dict[str, str] = {}
    for w in content_words(norm.split()):
        seen.setdefault(fold_word(w), w)
    return [norm, [[k, w] for k, w in seen.items()]]


def _stem_seq(norm: str) -> list[str]:
    from .lang import english_stem

    return [english_stem(w) for w in norm.split()]


def _holds_run(seq: Sequence[str], run: Sequence[str]) -> bool:
    n = len(run)
    return any(list(seq[i : i + n]) == list(run) for i in range(len(seq) - n + 1))


def _concepts(topics: Sequence[Sequence[Any]], vocabulary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every concept search knows: the vocabulary's, and one per topic (label, aliases and
    its Russian and Kazakh words)."""
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


def _build_concepts(
    concepts: list[dict[str, Any]], stem_seqs: list[list[str]], stem_postings: dict[str, list[int]], by_tag: dict[str, list[int]]
) -> dict[str, Any]:
    """Concept look-up tables (English by stem run, Russian by stem run, Kazakh by base
    form) and, for each concept, the claims that hold one of its terms or its topic."""
    from .lang import english_stem, russian_stem

    en_keys: dict[str, list[int]] = {}
    ru_keys: dict[str, list[int]] = {}
    kk_terms: list[list[Any]] = []
    claims_of: list[bytes] = []
    term_of: list[dict[int, str]] = []
    for ci, c in enumerate(concepts):
        held: dict[int, str] = {}
        for term in c["en"]:
            norm = normalize_text(term)
            if not norm:
                continue
            run = [english_stem(w) for w in norm.split()]
            key = " ".join(run)
            if ci not in en_keys.setdefault(key, []):
                en_keys[key].append(ci)
            content = [s for s, w in zip(run, norm.split(), strict=True) if w not in STOPWORDS] or run
            cand: set[int] | None = None
            for s in content:
                got = set(stem_postings.get(s, ()))
                cand = got if cand is None else cand & got
            for pos in sorted(cand or ()):
                if len(run) == 1 or _holds_run(stem_seqs[pos], run):
                    held.setdefault(pos, term)
        # words split at hyphens as a query's are (зорлық-зомбылық is two words in both)
        # a claim tagged with the concept's topic holds it too, but a claim that says one of
        # its words keeps that word (it weighs more than the tag: see Searcher._give_concept)
        for topic in c["topics"]:
            for pos in by_tag.get(f"topic:{topic}", []):
                held.setdefault(pos, f"topic {topic}")
        for term in c["ru"]:
            key = " ".join(russian_stem(w) for w in re.findall(r"\w+", term.lower()))
            if key and ci not in ru_keys.setdefault(key, []):
                ru_keys[key].append(ci)
        for term in c["kk"]:
            words = re.findall(r"\w+", term.lower())
            if words:
                kk_terms.append([words, ci])
        claims_of.append(pack(sorted(held)))
        term_of.append(held)
    # Russian and Kazakh terms in buckets by their first two letters: a query word is compared
    # with the terms that could meet it, not with all of them
    ru_buckets: dict[str, dict[str, bytes]] = {}
    for k, v in ru_keys.items():
        ru_buckets.setdefault(k[:BUCKET], {})[k] = pack(v)
    kk_buckets: dict[str, list[list[Any]]] = {}
    for entry in kk_terms:
        kk_buckets.setdefault(entry[0][0][:BUCKET], []).append(entry)
    return {
        "concept_ids": [c["id"] for c in concepts],
        "concept_en": {k: pack(v) for k, v in en_keys.items()},
        "concept_ru": ru_buckets,
        "concept_kk": kk_buckets,
        "concept_claims": claims_of,
        "concept_forms": [{pos: t for pos, t in held.items()} for held in term_of],
    }


def _roles(entities: Sequence[Sequence[Any]]) -> dict[str, str]:
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


def build_index(
    claims: Sequence[Sequence[Any]],
    entities: Sequence[Sequence[Any]],
    topics: Sequence[Sequence[Any]],
    terms: Sequence[list[Any] | None] | None = None,
    vocabulary: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Everything a query needs, computed once: postings by folded word and by stem, the
    claims of each entity, topic and concept, every name form to look for in a query, and
    per-claim columns. ``terms`` may give each claim's ``claim_terms`` already computed."""

    postings: dict[str, list[int]] = {}
    term_postings: dict[str, list[int]] = {}  # words of the claims' own lay search terms
    stem_postings: dict[str, list[int]] = {}
    surface: dict[str, str] = {}  # a word as written, for each folded key (shown in "matched")
    texts: list[str] = []
    term_texts: list[str] = []
    stem_seqs: list[list[str]] = []
    by_tag: dict[str, list[int]] = {}
    capital: set[str] = set()  # words written with a capital inside a sentence ...
    lower: set[str] = set()  # ... and words written in lower case somewhere
    roles = _roles(entities)
    for i, c in enumerate(claims):
        for m in re.finditer(r"(?<![.!?:;(\"“] )(?<!^)\b([^\W\d_][\w'’-]*)", c[CLAIM_TEXT]):
            (capital if m.group(1)[0].isupper() else lower).add(fold_word(m.group(1).lower()))
        known = terms[i] if terms else None
        norm, words = known if known else claim_terms(c[CLAIM_TEXT])
        texts.append(norm)
        for key, w in words:
            postings.setdefault(key, []).append(i)
            surface.setdefault(key, w)
        lay = [normalize_text(t) for t in (c[CLAIM_TERMS] if len(c) > CLAIM_TERMS else [])]
        lay += [roles[ref] for ref in c[CLAIM_PEOPLE] if ref in roles]
        term_texts.append(" | ".join(lay))
        for key in dict.fromkeys(fold_word(w) for t in lay for w in content_words(t.split())):
            term_postings.setdefault(key, []).append(i)
        seq = _stem_seq(norm)
        lay_seq = [s for t in lay for s in ["|", *_stem_seq(t)]]
        stem_seqs.append(seq + lay_seq)
        for s in dict.fromkeys(seq + lay_seq):
            stem_postings.setdefault(s, []).append(i)
        year = c[CLAIM_DATE][:4] if c[CLAIM_DATE] else None
        if year and not any(k == year for k, _ in words):
            postings.setdefault(year, []).append(i)
        for field, kind in TAG_FIELDS:
            for ref in c[field]:
                by_tag.setdefault(f"{kind}:{ref}", []).append(i)
        for ref in c[CLAIM_TOPICS]:
            by_tag.setdefault(f"topic:{ref}", []).append(i)
    forms: list[list[Any]] = []  # [tag, display form, folded key, via, normalised form]
    for e in entities:
        tag = f"{e[ENTITY_KIND]}:{e[ENTITY_ID]}"
        forms.append([tag, e[ENTITY_NAME], fold_key(e[ENTITY_NAME]), "name", normalize_text(e[ENTITY_NAME])])
        forms += [[tag, a, fold_key(a), "alias", normalize_text(a)] for a in e[ENTITY_ALIASES]]
        forms.append([tag, e[ENTITY_ID], fold_key(e[ENTITY_ID]), "id", normalize_text(e[ENTITY_ID])])
    for t in topics:
        tag = f"topic:{t[0]}"
        forms.append([tag, t[1], fold_key(t[1]), "name", normalize_text(t[1])])
        forms += [[tag, a, fold_key(a), "alias", normalize_text(a)] for a in t[2]]
        forms.append([tag, t[0], fold_key(t[0]), "id", normalize_text(t[0])])  # ids, as JSON shows them
    forms = [f for f in forms if f[2]]
    # Runs of two or more words inside a longer name ("Democratic Choice" in "Democratic
    # Choice of Kazakhstan"), by folded key -> positions in ``forms``.
    partials: dict[str, list[int]] = {}
    for fi, f in enumerate(forms):
        words = f[2].split()
        for i in range(len(words)):
            for j in range(i + 2, len(words) + 1):
                if (i, j) == (0, len(words)) or len(content_words(words[i:j])) < 2:
                    continue
                entry = partials.setdefault(" ".join(words[i:j]), [])
                if fi not in entry:
                    entry.append(fi)
    form_keys: dict[str, list[int]] = {}
    for fi, f in enumerate(forms):
        form_keys.setdefault(f[2], []).append(fi)
    # proper nouns ("QazVac", "Kazakhgate"): naming one names a thing, as an entity's name does
    proper = sorted(capital - lower)
    # the words of people's names: a typo of one of them may be a made-up person
    name_words = sorted({w for f in forms if f[0].startswith("person:") and f[3] != "id" for w in f[2].split()})
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
        "postings": {k: surface.get(k, k).encode() + b"\0" + pack(v) for k, v in postings.items()},
        "term_postings": {k: pack(v) for k, v in term_postings.items()},
        "stem_postings": {k: pack(v) for k, v in stem_postings.items()},
        "vocab": "\n".join(sorted(set(postings) | set(term_postings))),
        "name_words": "\n".join(name_words),
        "proper_words": "\n".join(proper),
        "by_tag": {k: pack(v) for k, v in by_tag.items()},
        "forms": forms,
        "partials": {k: pack(v) for k, v in partials.items()},
    }
    index.update(_build_concepts(_concepts(topics, vocabulary), stem_seqs, stem_postings, by_tag))
    return index


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


# credit for one query word in one claim: (weight, field, via, form, a typo of a name)
Credit = tuple[float, str, str, str, bool]


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


class Searcher:
    """Ranks the claims of one compiled fact base against queries."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.index = data["index"]
        self._vocab: list[str] | None = None
        self._name_words: set[str] | None = None
        self._proper: set[str] | None = None
        self._named: set[int] = set()  # claims tagged with an entity the last query names
        self._query_people: set[str] = set()  # people the last query names
        self._corrected: dict[int, str] = {}  # the last query's typos, as the reports write the words

    @property
    def vocab(self) -> list[str]:
        """Every folded word of the index, sorted (for prefix and fuzzy look-ups)."""
        if self._vocab is None:
            self._vocab = self.index["vocab"].split("\n")
        return self._vocab

    @property
    def name_words(self) -> set[str]:
        if self._name_words is None:
            self._name_words = set(self.index.get("name_words", "").split("\n"))
        return self._name_words

    @property
    def proper_words(self) -> set[str]:
        if self._proper is None:
            self._proper = set(self.index.get("proper_words", "").split("\n")) - {""}
        return self._proper

    # -- vocabulary look-ups -------------------------------------------------------------

    def _word_keys(self, word: str, fuzzy: bool = True) -> list[tuple[str, float, str]]:
        """Index keys that match one query word: (key, weight, via)."""
        key = fold_word(word)
        postings, term_postings = self.index["postings"], self.index.get("term_postings", {})
        out: list[tuple[str, float, str]] = []
        if key in postings or key in term_postings:
            out.append((key, 1.0, "word"))
        if re.fullmatch(r"[\d.]+", word):
            return out  # numbers match exactly or not at all
        vocab = self.vocab
        if len(key) >= 4:  # prefix: "photo" finds "photos", "registr" finds "registration"
            i = bisect.bisect_left(vocab, key)
            while i < len(vocab) and vocab[i].startswith(key) and len(out) < 40:
                # a short key extends only a little ("parti" finds "parties", not "participation")
                if vocab[i] != key and (len(key) >= 7 or len(vocab[i]) - len(key) <= 4):
                    out.append((vocab[i], 0.9, "prefix"))
                i += 1
        if len(key) >= 5:  # same stem: "arrested" finds "arrest", "abolished" finds "abolition"
            stem = key[:5]
            i = bisect.bisect_left(vocab, stem)
            while i < len(vocab) and vocab[i].startswith(stem) and len(out) < 60:
                cand = vocab[i]
                if cand != key and not cand.startswith(key):
                    common = next(
                        (n for n, (a, b) in enumerate(zip(key, cand, strict=False)) if a != b), min(len(key), len(cand))
                    )
                    if common >= 6 or min(len(key), len(cand)) >= 8:
                        out.append((cand, STEM_WEIGHT, "stem"))
                i += 1
        if fuzzy and len(key) >= FUZZY_MIN_LEN and not out:  # typo tolerance, only where nothing matched as written
            out += self._typos(key)
        return out

    def _typos(self, key: str) -> list[tuple[str, float, str]]:
        from rapidfuzz import fuzz, process

        cutoff = 80 if len(key) >= 8 else 83
        return [
            (cand, 0.85 * score / 100, "fuzzy")
            for cand, score, _ in process.extract(key, self.vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=6)
        ]

    def _stem_claims(self, word: str) -> array[int]:
        """Claims holding a word with the query word's English stem (detained ~ detention? no:
        detain ~ detained ~ detaining)."""
        from .lang import english_stem

        return unpack(self.index.get("stem_postings", {}).get(english_stem(word), b""))

    def _concept_spans(self, words: Sequence[Word], content: set[int], fixed: dict[int, str]) -> list[tuple[int, int, int, str]]:
        """Vocabulary concepts named inside the query: (start, end, concept, via). ``fixed``
        gives a typo's correction for some positions, looked up in its place."""
        from .lang import english_stem, kazakh_meets, russian_stem, stems_meet

        en, ru, kk = self.index.get("concept_en", {}), self.index.get("concept_ru", {}), self.index.get("concept_kk", {})
        found: list[tuple[int, int, int, str]] = []
        n = len(words)
        latin = [fixed.get(i, w.norm) for i, w in enumerate(words)]
        for i in range(n):
            for j in range(min(n, i + MAX_TERM_WORDS), i, -1):
                if not any(k in content for k in range(i, j)) or any(w.cyrillic for w in words[i:j]):
                    continue
                key = " ".join(english_stem(w) for w in latin[i:j])
                via = "fuzzy" if any(k in fixed for k in range(i, j)) else "synonym"
                found += [(i, j, ci, via) for ci in unpack(en.get(key, b""))]
        cyr = [i for i, w in enumerate(words) if w.cyrillic]
        if not cyr:
            return found
        stems = {i: russian_stem(words[i].raw) for i in cyr if not words[i].kazakh}
        for i in cyr:
            for key, packed in ru.get(stems[i][:BUCKET], {}).items() if i in stems else ():
                run = key.split()
                if i + len(run) <= n and all(i + k in stems and stems_meet(stems[i + k], s) for k, s in enumerate(run)):
                    found += [(i, i + len(run), ci, "translation") for ci in unpack(packed)]
            for run, ci in kk.get(words[i].raw[:BUCKET], ()):
                if i + len(run) <= n and all(
                    words[i + k].cyrillic and kazakh_meets(words[i + k].raw, t) for k, t in enumerate(run)
                ):
                    found.append((i, i + len(run), ci, "translation"))
        return found

    def _spans(self, folds: Sequence[str], content: set[int]) -> list[tuple[int, int, list[Any], float, str]]:
        """Entity and topic names inside the query: (start, end, form, weight, via)."""
        found = []
        forms, form_keys = self.index["forms"], self.index["form_keys"]
        n = len(folds)
        covered: set[tuple[int, int]] = set()
        for i in range(n):
            for j in range(min(n, i + MAX_SPAN), i, -1):
                if not any(k in content for k in range(i, j)):
                    continue
                key = " ".join(folds[i:j])
                for form in (forms[fi] for fi in unpack(form_keys.get(key, b""))):
                    found.append((i, j, form, 1.0, form[3]))
                    covered.add((i, j))
                for fi in unpack(self.index["partials"].get(key, b"")):
                    found.append((i, j, self.index["forms"][fi], 0.9, "partial"))
                    covered.add((i, j))
        # Fuzzy names: spans of up to three words, none of them matched exactly, that hold a
        # word the index does not know as written (a typo or an unlisted spelling).
        known = self.index["postings"]
        exact_words = {k for i, j in covered for k in range(i, j)}
        spans = [
            (i, j)
            for i in range(n)
            for j in range(i + 1, min(n, i + 3) + 1)
            if not any(k in exact_words for k in range(i, j))
            and any(k in content and folds[k] not in known for k in range(i, j))
            and len("".join(folds[i:j])) >= FUZZY_MIN_LEN
        ]
        if spans:
            from rapidfuzz import fuzz, process

            keys = list(form_keys)
            for i, j in spans:
                key = " ".join(folds[i:j])
                cutoff = 85 if len(key) >= 8 else 90
                for cand, score, _ in process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=4):
                    for form in (forms[fi] for fi in unpack(form_keys[cand])):
                        found.append((i, j, form, 0.85 * score / 100, "fuzzy"))
        return found

    # -- ranking ---------------------------------------------------------------------------

    def rank(self, query: str, allowed: set[int] | None = None, limit: int | None = None) -> list[Ranked]:
        """Claims matching ``query``, best first (full answers, then partial ones)."""
        r = self.answer(query, allowed)
        ranked = r.full + r.partial
        return ranked[:limit] if limit else ranked

    def answer(self, query: str, allowed: set[int] | None = None) -> Ranking:
        """Claims that answer ``query`` in full, best first, and apart the nearest partial ones."""
        q = analyse(query, MAX_QUERY_WORDS)
        if not q.words:
            return Ranking([], [], (), (), None)
        if q.report:
            allowed = {
                i
                for i in (allowed if allowed is not None else range(len(self.index["ids"])))
                if self.index["reports"][i] == q.report
            }
        credit, tier2, id_hit = self._credit(q)
        return self._tiers(q, credit, tier2, id_hit, allowed)

    def _credit(self, q: Query) -> tuple[dict[int, dict[int, Credit]], set[int], int | None]:
        """For each content word of the query, every claim that holds it and how."""
        words, content = q.words, set(q.content)
        postings, term_postings, by_tag = self.index["postings"], self.index.get("term_postings", {}), self.index["by_tag"]
        credit: dict[int, dict[int, Credit]] = {p: {} for p in content}
        self._corrected = {}

        def give(p: int, ci: int, c: Credit) -> None:
            best = credit[p].get(ci)
            if best is None or c[0] > best[0]:
                credit[p][ci] = c

        # 1. the words themselves (Latin script; Cyrillic words met by the vocabulary below)
        translated = {i for s in self._concept_spans(words, content, {}) if s[3] == "translation" for i in range(s[0], s[1])}
        fixed: dict[int, str] = {}
        for p in content:
            w = words[p]
            if p in translated:
                continue
            keys = self._word_keys(w.norm, fuzzy=False)
            for key, weight, via in keys:
                written, positions = posting(postings.get(key, b""))
                # a name's "stem" (Elshibekov ~ Elshibayev) is a typo of that name
                name = via == "stem" and key in self.name_words
                for ci in positions:
                    give(p, ci, (weight, "claim", via, written or key, name))
                for ci in unpack(term_postings.get(key, b"")):
                    give(p, ci, (weight * TERM_WEIGHT, "terms", via, key, name))
            if not w.norm.isdigit() and w.norm.isalpha():
                for ci in self._stem_claims(w.norm):
                    give(p, ci, (STEM_WEIGHT, "claim", "stem", w.norm, False))
        # 1b. decades: "1990s", "the 90s", "the nineties" (and "early", "mid", "late" before them)
        for ps, (lo, hi) in decades(words).items():
            years = [str(y) for y in range(lo, hi + 1)] + [f"{lo - lo % 10}s"]
            for year in years:
                written, positions = posting(postings.get(year, b""))
                for ci in positions:
                    for p in ps:
                        if p in content:
                            give(p, ci, (1.0, "claim", "decade", written or year, False))
        # 2. concepts: synonyms, translations, topic labels in any language
        for i, j, concept, via in self._concept_spans(words, content, {}):
            self._give_concept(credit, content, i, j, concept, via, give)
        # 3. typos, only for words nothing else matched
        for p in content:
            if p in translated or len(words[p].norm) < FUZZY_MIN_LEN or not words[p].norm.isalpha():
                continue
            # a word matched only by a loose stem ("parlimentary" ~ "parliament") may be a typo
            # of a closer word ("parliamentary"): look for one too
            if credit[p] and (
                fold_word(words[p].norm) in postings or any(c[2] not in ("stem", "prefix") for c in credit[p].values())
            ):
                continue
            typos = self._typos(fold_word(words[p].norm))
            for key, weight, _via in typos:
                name = key in self.name_words
                written, positions = posting(postings.get(key, b""))
                for ci in positions:
                    give(p, ci, (weight, "claim", "fuzzy", written or key, name))
                for ci in unpack(term_postings.get(key, b"")):
                    give(p, ci, (weight * TERM_WEIGHT, "terms", "fuzzy", key, name))
            if typos:
                fixed[p] = typos[0][0]
                written = posting(postings.get(typos[0][0], b""))[0]
                self._corrected[p] = normalize_text(written) if written else typos[0][0]
        if fixed:
            for i, j, concept, _via in self._concept_spans(words, content, fixed):
                self._give_concept(credit, content, i, j, concept, "fuzzy", give)
        # 4. names of entities and topics inside the query
        folds = [fold_word(w.norm) if i not in translated else "\0" for i, w in enumerate(words)]
        tier2: set[int] = set()
        named: set[int] = set()
        self._query_people = set()
        for i, j, form, weight, via in self._spans(folds, content):
            tag, display = form[0], form[1]
            kind = tag.split(":", 1)[0]
            how = via if via in ("fuzzy", "partial") else ("alias" if via == "alias" else "name")
            tagged = unpack(by_tag.get(tag, b""))
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
            for ci in tagged:
                for p in range(i, j):
                    if p in content:
                        give(p, ci, (w_, kind, how, display, typo_of_name))
        ids = self.index["ids"]
        by_id = q.text
        id_hit = ids.index(by_id) if " " not in by_id and "-" in by_id and by_id in ids else None
        self._named = named
        return credit, tier2, id_hit

    def _give_concept(
        self, credit: dict[int, dict[int, Credit]], content: set[int], i: int, j: int, concept: int, via: str, give: Any
    ) -> None:
        forms = self.index["concept_forms"][concept]
        for ci in unpack(self.index["concept_claims"][concept]):
            form = forms.get(ci, "")
            # a claim that says the word outranks one that is only tagged with the concept's topic
            weight = SYNONYM_WEIGHT * (TOPIC_ONLY_WEIGHT if form.startswith("topic ") else 1.0) * (0.9 if via == "fuzzy" else 1.0)
            for p in range(i, j):
                if p in content:
                    give(p, ci, (weight, "claim", via, form, False))

    def _tiers(
        self, q: Query, credit: dict[int, dict[int, Credit]], tier2: set[int], id_hit: int | None, allowed: set[int] | None
    ) -> Ranking:
        """Sort every candidate into its tier (named tests, best first) and score it."""
        content = list(credit)
        ids, texts, lengths = self.index["ids"], self.index["texts"], self.index["lengths"]
        term_texts = self.index.get("term_texts") or [""] * len(ids)
        n_claims = max(len(ids), 1)
        idf = {p: math.log(1 + n_claims / (1 + len(credit[p]))) for p in content}
        total_idf = sum(idf.values()) or 1.0
        candidates: set[int] = set().union(*(credit[p] for p in content)) if content else set()
        if id_hit is not None:
            candidates.add(id_hit)
        if allowed is not None:
            candidates &= allowed
        qnorm = " ".join(w.norm for w in q.words)
        phrase = f" {qnorm} " if len(qnorm) >= 3 else None
        if phrase:  # "parlimentary oposition" is the phrase "parliamentary opposition": typos and
            # folded spellings are compared as the reports write them
            postings = self.index["postings"]

            def written(i: int, w: Word) -> str:
                if i in self._corrected:  # a typo of a name never makes a phrase: it must be vouched for
                    fixed = self._corrected[i]
                    return w.norm if any(fold_word(x) in self.name_words for x in fixed.split()) else fixed
                surface = posting(postings.get(fold_word(w.norm), b""))[0]
                return normalize_text(surface) if surface else w.norm

            phrase = " " + " ".join(written(i, w) for i, w in enumerate(q.words)) + " "
        missing = tuple(
            q.words[p].raw for p in content if not (credit[p].keys() & (allowed if allowed is not None else credit[p].keys()))
        )
        full: list[Ranked] = []
        partial: list[Ranked] = []
        suggestions: dict[str, None] = {}
        name_pos = {p for p in content if fold_word(q.words[p].norm) in self.name_words}
        ctx = _TierContext(q, content, credit, tier2, id_hit, phrase, texts, term_texts)
        for ci in candidates:
            held = {p: credit[p][ci] for p in content if ci in credit[p]}
            agreed = self._agreed(held, content, name_pos)
            if agreed is not None:
                suggestions.update(dict.fromkeys(agreed))
                held = {p: c for p, c in held.items() if not c[4]}
            coverage = sum(idf[p] * c[0] for p, c in held.items()) / total_idf
            text_cov = sum(idf[p] * c[0] for p, c in held.items() if c[1] == "claim") / total_idf
            lacks = tuple(q.words[p].raw for p in content if p not in held)
            match: tuple[str, str, str] | None
            tier = next((t for t, passes in TIER_TESTS if passes(self, ctx, ci, lacks, held)), TIER_PARTIAL)
            if ci == id_hit:
                match, coverage = ("id", "exact", q.text), 1.0
            elif tier == TIER_PHRASE:
                match = ("claim", "phrase", q.text)
            else:
                best = max(held.items(), key=lambda pc: idf[pc[0]] * pc[1][0])[1] if held else None
                match = (best[1], best[2], best[3]) if best else None
            if tier == TIER_PARTIAL and (coverage < MIN_PARTIAL_COVERAGE or not held):
                continue
            score = TIER_BASE[tier] + TIER_SPAN[tier] * self._within(coverage, text_cov, lengths[ci], q.wants, ci)
            r = Ranked(ci, round(score, 1), tier, match, lacks if tier <= TIER_ALL_BUT_ONE else ())
            (full if tier > TIER_PARTIAL else partial).append(r)
        order = lambda r: (-r.tier, -r.score, lengths[r.position], ids[r.position])  # noqa: E731
        full.sort(key=order)
        partial.sort(key=order)
        return Ranking(full, partial, missing, tuple(suggestions) if not full else (), q.report)

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
        if len(lacks) != 1 or len(content) < 3:
            return False
        if len(content) < 4 and ci not in self._named:
            proper = self.proper_words
            if not any(c[2] == "word" and fold_word(q.words[p].norm) in proper for p, c in held.items()):
                return False
        p = next(p for p in content if q.words[p].raw == lacks[0])
        word = q.words[p].norm
        # a word the reports use (or a typo of one: "registraton"), found in the claims as a
        # word, not only as a synonym of one; never a name
        known = any(c[2] in ("word", "stem", "prefix", "fuzzy") for c in credit[p].values())
        return known and word.isalpha() and fold_word(word) not in self.name_words

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

    def _within(self, coverage: float, text_cov: float, length: int, wants: str | None, ci: int) -> float:
        """A claim's place within its tier, from 0 to 1: how much of the query it holds (rare
        words weigh more), how much of that in its own text rather than its tags, what the
        question asks for, and a little for brevity. The parts add up to at most 1, so no
        claim's score is cut off at the top of its tier."""
        brevity = 1.0 - min(length / 400, 1.0)
        return (W_COVERAGE * coverage + W_TEXT * text_cov + W_WANTS * self._wants(wants, ci) + W_BREVITY * brevity) / (
            W_COVERAGE + W_TEXT + W_WANTS + W_BREVITY
        )

    def _wants(self, wants: str | None, ci: int) -> float:
        """How well a claim has what the question asks for: a figure ("how many"), a date as
        precise as possible ("when"), someone the query does not name ("who"), a dated event
        ("what happened to")."""
        if wants == "number":
            return 1.0 if self.index["figures"][ci] else 0.0
        if wants in ("date", "event"):
            date = self.index["dates"][ci] or ""
            precision = {10: 1.0, 7: 0.8, 4: 0.5}.get(len(date), 0.0)
            return precision if wants == "date" else 0.6 * precision
        if wants == "person":
            people = self.index.get("people", [()] * (ci + 1))[ci]
            return 1.0 if any(f"person:{p}" not in self._query_people for p in people) else 0.0
        return 0.0


class _TierContext(NamedTuple):
    """What the tier tests need to know about the query."""

    q: Query
    content: list[int]
    credit: dict[int, dict[int, Credit]]
    tier2: set[int]
    id_hit: int | None
    phrase: str | None
    texts: Sequence[str]
    term_texts: Sequence[str]


def _is_phrase_tier(s: Searcher, x: _TierContext, ci: int, lacks: tuple[str, ...], held: dict[int, Credit]) -> bool:
    """The query is the claim's id, or appears whole as a phrase in its text or search terms."""
    return ci == x.id_hit or s._is_phrase(x.phrase, x.texts[ci], x.term_texts[ci])


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


def resolve_name(data: dict[str, Any], query: str, kinds: Sequence[str]) -> list[Candidate]:
    """Entities (or topics) of the given kinds whose names best match ``query``, best first.

    Every name and alias is compared by its folded key, so transliterations meet; a
    namesake is told apart by the given name (Aset vs Olzhas Abishev), and words that are
    not part of the name (a role, a place) count when they appear in the description.
    """
    qfold = fold_key(query)
    if not qfold:
        return []
    qwords = set(qfold.split())
    best: dict[str, Candidate] = {}
    qnorm = normalize_text(query)
    forms = [f for f in data["index"]["forms"] if f[0].split(":", 1)[0] in kinds]
    for tag, display, ffold, via, fnorm in forms:
        if fnorm == qnorm:
            score, how = 100.0, via
        elif ffold == qfold:
            score, how = 97.0, "folded"
        else:
            continue
        prev = best.get(tag)
        if prev is None or score > prev.score:
            best[tag] = Candidate(tag, score, display, how)
    if not best:
        # No name as written: the best run of query words against each name. The other
        # words are context (a role, a place) and cost a little, so a bare name wins.
        from rapidfuzz import fuzz

        qlist = qfold.split()
        spans = {" ".join(qlist[i:j]) for i in range(len(qlist)) for j in range(i + 1, min(len(qlist), i + 6) + 1)}
        for tag, display, ffold, _via, _norm in forms:
            score, how = 0.0, "fuzzy"
            for span in spans:
                ratio = fuzz.ratio(span, ffold) - (0.0 if span == qfold else 3.0)
                if ratio > score:
                    score, how = ratio, ("name" if ratio >= 94.0 else "fuzzy")
            prev = best.get(tag)
            if prev is None or score > prev.score:
                best[tag] = Candidate(tag, score, display, how)
    # Context: query words beyond the name that the description holds break ties.
    if len(qwords) > 1:
        descriptions = {f"{e[ENTITY_KIND]}:{e[ENTITY_ID]}": " ".join(str(x) for x in (e[4], e[5]) if x) for e in data["entities"]}
        descriptions.update({f"topic:{t[0]}": t[3] or "" for t in data["topics"]})
        for tag, cand in list(best.items()):
            extra = qwords - set(fold_key(cand.form).split())
            desc = set(fold_key(descriptions.get(tag, "")).split())
            bonus = sum(1 for w in extra if any(d.startswith(w[:5]) for d in desc))
            if bonus:
                best[tag] = Candidate(tag, min(cand.score + 2.0 * bonus, 100.0), cand.form, cand.via)
    return sorted(best.values(), key=lambda c: (-c.score, c.tag))
