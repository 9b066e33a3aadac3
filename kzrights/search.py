"""The search index (built once per fact-base edit) and ranking (run per query).

Ranking works in tiers, best first:

3. the whole query appears as a phrase in the claim (or is the claim's id);
2. the whole query is a name or alias of an entity or topic the claim is tagged with;
1. every word of the query is found, exactly or by its folded key (Mamay/Mamai), in the
   claim's text or in the names and aliases of its entities and topics;
0. some words are found, or found only by fuzzy matching (typos).

Within a tier, a claim scores by the share of the query's words it holds, each word weighted
by how rare it is (idf) and by how well it matched, with a bonus for words in the claim's
own text over words only in its tags. Fuzzy matching works word by word against the
index's vocabulary and needs at least five letters, so a short query cannot match a long
text by accident.
"""

from __future__ import annotations

import bisect
import math
import re
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from .text import fold_key, fold_word, normalize_text

STOPWORDS = frozenset(
    """
    a an the of in on at to for and or but by with from as is was were be been are it its
    this that these those into about over after before since during than then there their
    they he she his her him who whom which what when where why how not no nor so such also
    has have had do does did will would can could should may might must s
    """.split()
)
MAX_QUERY_WORDS = 32  # a pasted paragraph is searched by its first words, not rejected
MAX_SPAN = 6  # the longest entity name, in words, looked for inside a query
FUZZY_MIN_LEN = 5
TIER_BASE = {3: 85.0, 2: 70.0, 1: 50.0, 0: 0.0}
TIER_SPAN = {3: 15.0, 2: 15.0, 1: 20.0, 0: 50.0}
MIN_TIER0_COVERAGE = 0.25
STEM_WEIGHT = 0.85  # a word sharing its stem with the query's counts as found (tier 1)

# Compiled layout (plain data that marshal stores). A claim record is a list in this order:
ENTITY_KIND, ENTITY_ID, ENTITY_NAME, ENTITY_ALIASES = 0, 1, 2, 3
CLAIM_ID, CLAIM_TEXT, CLAIM_REPORT = 0, 1, 2
CLAIM_DATE, CLAIM_PEOPLE, CLAIM_ORGS, CLAIM_PLACES, CLAIM_TOPICS = 6, 7, 8, 9, 10
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


def build_index(
    claims: Sequence[Sequence[Any]],
    entities: Sequence[Sequence[Any]],
    topics: Sequence[Sequence[Any]],
    terms: Sequence[list[Any] | None] | None = None,
) -> dict[str, Any]:
    """Everything a query needs, computed once: postings by folded word, the claims of
    each entity and topic, every name form to look for in a query, and per-claim columns.
    ``terms`` may give each claim's ``claim_terms`` already computed."""
    postings: dict[str, list[int]] = {}
    surface: dict[str, str] = {}  # a word as written, for each folded key (shown in "matched")
    texts: list[str] = []
    by_tag: dict[str, list[int]] = {}
    for i, c in enumerate(claims):
        known = terms[i] if terms else None
        norm, words = known if known else claim_terms(c[CLAIM_TEXT])
        texts.append(norm)
        for key, w in words:
            postings.setdefault(key, []).append(i)
            surface.setdefault(key, w)
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
    return {
        "form_keys": {k: pack(v) for k, v in form_keys.items()},
        "texts": texts,
        "ids": [c[CLAIM_ID] for c in claims],
        "reports": [c[CLAIM_REPORT] for c in claims],
        "dates": [c[CLAIM_DATE] for c in claims],
        "lengths": [len(c[CLAIM_TEXT]) for c in claims],
        # the word as first written, a NUL, then the packed positions: one object per word
        "postings": {k: surface.get(k, k).encode() + b"\0" + pack(v) for k, v in postings.items()},
        "vocab": "\n".join(sorted(postings)),
        "by_tag": {k: pack(v) for k, v in by_tag.items()},
        "forms": forms,
        "partials": {k: pack(v) for k, v in partials.items()},
    }


class Ranked(NamedTuple):
    """One ranked claim, by its position in the compiled fact base."""

    position: int
    score: float
    tier: int
    match: tuple[str, str, str] | None  # (field, via, form)


class Searcher:
    """Ranks the claims of one compiled fact base against queries."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.index = data["index"]
        self._vocab: list[str] | None = None

    @property
    def vocab(self) -> list[str]:
        """Every folded word of the index, sorted (for prefix and fuzzy look-ups)."""
        if self._vocab is None:
            self._vocab = self.index["vocab"].split("\n")
        return self._vocab

    # -- vocabulary look-ups -------------------------------------------------------------

    def _word_keys(self, word: str) -> list[tuple[str, float, str]]:
        """Index keys that match one query word: (key, weight, via)."""
        key = fold_word(word)
        postings = self.index["postings"]
        out: list[tuple[str, float, str]] = []
        if key in postings:
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
        if len(key) >= FUZZY_MIN_LEN and not out:  # typo tolerance, only where nothing matched as written
            from rapidfuzz import fuzz, process

            cutoff = 85 if len(key) >= 8 else 88
            for cand, score, _ in process.extract(key, vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=6):
                out.append((cand, 0.85 * score / 100, "fuzzy"))
        return out

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
        """Claims matching ``query``, best first; ``allowed`` restricts to those positions."""
        qnorm = normalize_text(query)
        words = qnorm.split()[:MAX_QUERY_WORDS]
        if not words:
            return []
        qnorm = " ".join(words)
        content = {i for i, w in enumerate(words) if w not in STOPWORDS} or set(range(len(words)))
        folds = [fold_word(w) for w in words]
        ids = self.index["ids"]
        n_claims = max(len(ids), 1)
        by_tag = self.index["by_tag"]
        postings = self.index["postings"]

        # credit[position][claim] = best way that claim holds that query word
        # credit[position][claim] = (weight, field, via, form): the best way that claim holds that word
        credit: dict[int, dict[int, tuple[float, str, str, str]]] = {p: {} for p in content}
        text_credit: dict[int, dict[int, float]] = {p: {} for p in content}
        for p in content:
            for key, weight, via in self._word_keys(words[p]):
                written, positions = posting(postings.get(key, b""))
                for ci in positions:
                    if weight > text_credit[p].get(ci, 0.0):
                        text_credit[p][ci] = weight
                        best = credit[p].get(ci)
                        if best is None or weight > best[0]:
                            credit[p][ci] = (weight, "claim", via, written)
        tier2: set[int] = set()  # claims tagged with an entity or topic the whole query names
        for i, j, form, weight, via in self._spans(folds, content):
            tag, display = form[0], form[1]
            kind = tag.split(":", 1)[0]
            how = via if via in ("fuzzy", "partial") else ("alias" if via == "alias" else "name")
            tagged = unpack(by_tag.get(tag, b""))
            if i == 0 and j == len(words) and via not in ("fuzzy", "partial"):
                tier2.update(tagged)
            topic_factor = 0.9 if kind == "topic" else 1.0
            for ci in tagged:
                for p in range(i, j):
                    if p not in content:
                        continue
                    best = credit[p].get(ci)
                    w = weight * topic_factor
                    if best is None or w > best[0]:
                        credit[p][ci] = (w, kind, how, display)

        idf = {p: math.log(1 + n_claims / (1 + len(credit[p]))) for p in content}
        total_idf = sum(idf.values()) or 1.0
        candidates: set[int] = set()
        for p in content:
            candidates.update(credit[p])
        if allowed is not None:
            candidates &= allowed
        texts = self.index["texts"]
        lengths = self.index["lengths"]
        # normalised texts are single-space-separated words: a padded substring is a whole-word phrase
        phrase = f" {qnorm} " if len(qnorm) >= 3 else None
        by_id = query.strip()
        id_hit = ids.index(by_id) if " " not in by_id and "-" in by_id and by_id in ids else None
        if id_hit is not None and (allowed is None or id_hit in allowed):
            candidates.add(id_hit)
        ranked: list[Ranked] = []
        for ci in candidates:
            held = [(p, credit[p][ci]) for p in content if ci in credit[p]]
            coverage = sum(idf[p] * c[0] for p, c in held) / total_idf
            text_cov = sum(idf[p] * text_credit[p].get(ci, 0.0) for p in content) / total_idf
            if ci == id_hit:
                tier, match, coverage = 3, ("id", "exact", by_id), 1.0
            elif phrase is not None and phrase in f" {texts[ci]} ":
                tier, match = 3, ("claim", "phrase", query.strip())
            else:
                best = max(held, key=lambda pc: idf[pc[0]] * pc[1][0])[1]
                match = (best[1], best[2], best[3])
                if ci in tier2:
                    tier = 2
                elif len(held) == len(content) and all(c[0] >= STEM_WEIGHT for _, c in held):
                    tier = 1
                else:
                    tier = 0
                    if coverage < MIN_TIER0_COVERAGE:
                        continue
            within = 0.7 * coverage + 0.3 * text_cov - 0.05 * min(lengths[ci] / 400, 1.0)
            score = TIER_BASE[tier] + TIER_SPAN[tier] * max(0.0, min(within, 1.0))
            ranked.append(Ranked(ci, round(score, 1), tier, match))
        ranked.sort(key=lambda r: (-r.tier, -r.score, lengths[r.position], ids[r.position]))
        return ranked[:limit] if limit else ranked


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
