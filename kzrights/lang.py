"""Word stems for English and Russian, and base-form matching for Kazakh.

PyStemmer (the Snowball project's own binding of its stemmers, in C) gives English and
Russian stems; it imports in about a millisecond, where the pure-Python snowballstemmer
package imports all 30 of its languages (10 ms) whichever one is asked for. A dictionary
lemmatiser (pymorphy3) was measured too: it finds better Russian lemmas but costs ~70 ms to
load, most of a query's budget; with the stem-prefix rule below, Snowball's stems meet the
vocabulary as well. Kazakh has no Snowball stemmer; it is agglutinative (suffixes are added
to an unchanged base, with a final consonant voiced before a vowel: жемқорлық → жемқорлығы),
so a Kazakh word meets a vocabulary term when the term, less its last letter, begins the word.

Only the module-level stemmer objects are cached; each is made on first use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_STEMMERS: dict[str, Any] = {}
MIN_STEM = 4  # a stem shorter than this is compared whole, never as a prefix


def _stemmer(lang: str) -> Any:
    s = _STEMMERS.get(lang)
    if s is None:
        import Stemmer

        s = _STEMMERS[lang] = Stemmer.Stemmer(lang)
    return s


# Words whose Porter2 stem would be another word's: "reporters" would meet "report",
# "nationalism" the "Nations" of Nations in Transit, "governance" "government". Each keeps a
# stem of its own (its word family shares it), so a query meets the word it names.
_OWN_STEMS = {
    stem: words.split()
    for stem, words in {
        "reporter": "reporter reporters",
        "organiser": "organiser organisers organizer organizers",
        "nationalism": "nationalism",
        "nationalist": "nationalist nationalists nationalistic",
        "nationality": "nationality nationalities",
        "independence": "independence",
        "allowance": "allowance allowances",
        "supporter": "supporter supporters",
        "authoris": "authorised authorized authorisation authorization",
        "publication": "publication publications",
        "officer": "officer officers",
        "rating": "rating ratings",
        "modernis": "modernisation modernization modernised modernized",
        "centralis": "centralised centralized centralisation centralization",
        "minority": "minority minorities",
        "governance": "governance",
        "presidency": "presidency presidencies",
        "activism": "activism",
        "execution": "execution executions executed execute executes executing",
        "follower": "follower followers",
        "influencer": "influencer influencers",
        "financier": "financier financiers",
        "legality": "legality lawfulness",
        "openly": "openly",
        "legislator": "legislator legislators",
        "hospitality": "hospitality",
        "apartment": "apartment apartments",
        "nominal": "nominal nominally",
        "declarative": "declarative",
        "succession": "succession",
        "celebrity": "celebrity celebrities",
        "medic": "medic medics",
        "medication": "medication medications",
        "minors": "minors",
        "foreigner": "foreigner foreigners",
        "protestant": "protestant protestants",
        "extremely": "extremely",
        "fundamentalism": "fundamentalism fundamentalist fundamentalists",
        "offensive": "offensive",
        "campaigner": "campaigner campaigners",
        "commentator": "commentator commentators",
        "credibility": "credibility",
        "substantiated": "substantiated unsubstantiated",
        "accession": "accession",
        "victorious": "victorious",
        "liberties": "liberties",
        "capitalism": "capitalism",
        "believer": "believer believers",
    }.items()
}
OWN_STEMS = {word: stem for stem, words in _OWN_STEMS.items() for word in words}
_IZE = re.compile(r"iz(ation|ations|ed|ing|es|e)$")


@lru_cache(maxsize=65536)
def english_stem(word: str) -> str:
    """Porter2 stem of a normalised (lower-case ASCII) English word: detained -> detain."""
    if not word.isalpha() or len(word) <= 3:
        return word
    # American -ize spellings stem as the British -ise ones (privatization ~ privatisation)
    word = _IZE.sub(lambda m: "is" + m.group(1), word) if len(word) > 6 else word
    return OWN_STEMS.get(word) or str(_stemmer("english").stemWord(word))


@lru_cache(maxsize=4096)
def russian_stem(word: str) -> str:
    """Snowball stem of a lower-case Russian word: пытки, пытка -> пытк."""
    return str(_stemmer("russian").stemWord(word.replace("ё", "е")))


def stems_meet(a: str, b: str) -> bool:
    """Two stems of one language name the same word: equal, or one begins the other and
    both are long enough that this is not chance (задержа / задержан)."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if long_ == short + "л":  # a past tense that drops its л in the masculine: умер, умерла, умерло
        return True
    return len(short) >= MIN_STEM + 1 and long_.startswith(short) and len(long_) - len(short) <= 2


# Kazakh suffixes (plural, possessive, case), any of which may follow a base: a short base
# (сот, заң, жер) meets a word only as the base plus such suffixes, never as a mere prefix.
KAZAKH_SUFFIXES = tuple(
    sorted(
        """лар лер дар дер тар тер ы і сы сі ым ім ың ің ымыз іміз ы ны ні ды ді ты ті н ның нің дың
        дің тың тің ға ге қа ке на не а е да де та те нда нде дан ден тан тен нан нен мен бен пен
        ғы гі қы кі""".split(),
        key=len,
        reverse=True,
    )
)


def _suffixes_only(rest: str, depth: int = 0) -> bool:
    if not rest:
        return True
    return depth < 4 and any(rest.startswith(s) and _suffixes_only(rest[len(s) :], depth + 1) for s in KAZAKH_SUFFIXES)


def kazakh_base(term: str) -> str:
    """The part of a Kazakh base form that its inflected forms keep: the last letter goes
    when it is one that changes before a suffix (қ→ғ, к→г, п→б), and a verbal noun's -у goes
    (босату → босат-ылды, қамау → қама-лды)."""
    if len(term) > 4 and term[-1] in "қкп":
        return term[:-1]
    if len(term) >= 5 and term[-1] == "у":
        return term[:-1]
    return term


def kazakh_meets(word: str, term: str) -> bool:
    """A Kazakh word is an inflected form of ``term`` (a base form)."""
    base = kazakh_base(term)
    if word == term:
        return True
    if len(base) < MIN_STEM:  # a short base: only with Kazakh suffixes after it (сот → соттар)
        return word.startswith(base) and _suffixes_only(word[len(base) :])
    return word.startswith(base) and len(word) - len(term) <= 12
