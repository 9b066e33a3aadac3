"""Text normalisation shared by the index and the query.

Two levels:
- ``normalize_text``: case and diacritics folded, Cyrillic transliterated, quotes and dashes
  unified, everything that is not a letter or digit turned into a single space. Used for
  phrase matching and for display-independent comparison.
- ``fold_word`` / ``fold_key``: on top of that, the common variants of romanised Kazakh and
  Russian names collapsed to one key (Zhanbolat/Janbolat, Mamay/Mamai, Nazarbaev/Nazarbayev,
  Mukhtar/Muktar), so every spelling of a name lands on the same key.

A hand table transliterates Cyrillic: it is exact for the Kazakh letters and costs no import.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Russian and Kazakh Cyrillic, lower case (input is lower-cased first).
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Kazakh letters
    "ә": "a",
    "ғ": "g",
    "қ": "q",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
    # Ukrainian/Belarusian letters that turn up in names
    "є": "ye",
    "ї": "yi",
    "ў": "u",
    "ґ": "g",
}

# Quotes, dashes and other punctuation variants that should compare equal.
_PUNCT = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u00a0": " ",
}

_TRANSLATE = str.maketrans({**_CYRILLIC, **_PUNCT})
# What becomes a space: a possessive 's (after a letter, digit or dot, or first), anything
# but letters, digits and dots, and a dot that is not inside a number (2.6 and 1.5 stay
# whole); each looked for with a literal first, so that a text is scanned quickly.
_POSSESSIVE = re.compile(r"'(?<![^0-9a-z.]')s\b")
_NOT_KEPT = re.compile(r"[^0-9a-z.]+")
_NOT_KEPT_ASCII = str.maketrans({chr(i): " " for i in range(128) if not re.match(r"[0-9a-z.]", chr(i))})
_LONE_DOT = re.compile(r"\.(?:(?<![0-9]\.)|(?![0-9]))")
_SPACES = re.compile(r" {2,}")
# 20,000 and 20 000 (narrow or no-break space): the separator, then what is around it
_THOUSANDS = re.compile(r"[,\u202f\u2009\u00a0](?<=\d.)(?=\d{3}(?!\d))")


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _strip_marks(text: str) -> str:
    """Decompose and drop the combining marks: é -> e, ß stays, Cyrillic already mapped."""
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def normalize_text(text: str) -> str:
    """Lower-case ASCII words and digits separated by single spaces.

    >>> normalize_text("Қасым-Жомарт Тоқаев, “Leader of the Nation”")
    'qasym zhomart toqaev leader of the nation'
    """
    text = _THOUSANDS.sub("", text)  # 20,000 -> 20000, as users type it either way
    text = _strip_marks(text.lower().translate(_TRANSLATE))
    if "'" in text:
        text = _POSSESSIVE.sub(" ", text)
    text = text.translate(_NOT_KEPT_ASCII) if text.isascii() else _NOT_KEPT.sub(" ", text)
    if "." in text:
        text = _LONE_DOT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """The words of ``normalize_text(text)``."""
    return normalize_text(text).split()


# Romanisation variants, applied in order to one normalised word.
_PLAIN_FOLDS = (
    ("dzh", "j"),  # Dzhakishev / Jakishev
    ("zh", "j"),  # Zhanbolat / Janbolat
    ("kh", "k"),  # Mukhtar / Muktar
    ("q", "k"),  # Toqaev / Tokaev
    ("gh", "g"),
    ("ts", "c"),
    ("x", "ks"),  # Max / Maks
    ("z", "s"),  # digitalization / digitalisation (zh was folded above)
)
_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"ies$", "i"),  # parties / party
        (r"(?<=[a-rt-z]{4})s$", ""),  # prisoners / prisoner, not "press"
        (r"(?:(?<=[aeiou])|^)ye", "e"),  # Bokayev / Bokaev, Aliyev / Aliev, Yerlan / Erlan
        (r"(?:iy|yi|ii|y)$", "i"),  # Mamay / Mamai, Yevgeniy / Yevgeny
    )
)
_DOUBLES = re.compile(r"([^\W\d])\1+")  # Kassym / Kasym; letters only: 2011 and 1000 stay as they are


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """One normalised word to its romanisation-independent key.

    >>> fold_word("zhanbolat") == fold_word("janbolat")
    True
    """
    for old, new in _PLAIN_FOLDS:
        word = word.replace(old, new)
    for pattern, repl in _FOLDS:
        word = pattern.sub(repl, word)
    return _DOUBLES.sub(r"\1", word.replace("y", "i"))  # Ilyashev / Iliashev, then doubled letters


def fold_key(text: str) -> str:
    """A whole text to space-separated folded words: the key names are compared by."""
    return " ".join(fold_word(w) for w in tokens(text))


def text_fragment(start: str, end: str) -> str:
    """A URL text fragment (``#:~:text=START,END``) that scrolls a browser to a passage and
    highlights it; ``-``, ``,`` and ``&`` are escaped as the syntax requires."""
    from urllib.parse import quote

    def enc(s: str) -> str:
        return quote(s, safe="").replace("-", "%2D")

    return "#:~:text=" + enc(start) + (f",{enc(end)}" if end else "")
