"""A fact file read by yaml-rs, several times faster than PyYAML, where that gives exactly
the data PyYAML gives (and a claim file's claims' lines); otherwise None, and the file is
read as ever.

PyYAML reads YAML 1.1, yaml-rs YAML 1.2: the two differ on a few plain scalars (``yes``,
``012``, ``1:20``, ``2020-01-01``...), on line breaks (NEL, LS, PS), tabs and escapes, on
an empty block scalar, and yaml-rs has no line numbers. So a file is read here only when

- it holds none of the characters where the two may part: ``&`` ``*`` (anchors, aliases),
  ``!`` (tags), ``\\`` (escapes), a tab, a carriage return, a Unicode line or paragraph
  separator, NEL, a byte-order mark, a character PyYAML refuses, nor a directive;
- every string in it is one PyYAML would not have read as something else if written plain
  (PyYAML's own resolvers decide), or one yaml-rs would not have read as a string if it
  was (``"2020"``: quoted, a string in both), or one written only between quotes
  (``"2020-01-01"``); none is only white space; no value is a float or any other type but
  strings, integers, booleans, nulls, lists and string-keyed mappings;
- no integer is written with a leading zero (``012``, ``0o12``): every such form in the
  file is inside a string;
- it is a mapping; and a claim file's claims are a block sequence whose items can be
  counted at the start of their lines, as many as yaml-rs found (see ``_item_lines``).

The whole build (``load.read_yaml``) remains the reference: ``tests/test_quickyaml.py``
compares the two on every fact file and on files made of every form above.
"""

from __future__ import annotations

import re
from typing import Any

yaml_rs: Any
try:
    import yaml_rs
except ImportError:  # (a platform without its wheel: every file is read by PyYAML)
    yaml_rs = None

# characters where PyYAML and yaml-rs may part: what is allowed is a line feed, printable
# ASCII but ! & * \\, and what PyYAML allows above it but NEL, LS, PS and the byte-order mark
_PARTING_CHARACTER = re.compile(
    r"[^\n \x22-\x25\x27-\x29\x2b-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_ZERO = re.compile(r"0[0-9_oObB]")  # (see ``_leading_zeros``)
_WORDISH = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.+-")
_CLAIMS_KEY = re.compile(r"^claims:[ ]*(?:#.*)?$", re.M)
_FIRST_ITEM = re.compile(r"^( *)-(?: |$)", re.M)
_BY_FIRST: tuple[dict[str, Any], Any] | None = None
_PLAIN: dict[str, bool] = {}


def claim_file(text: str) -> tuple[Any, list[int]] | None:
    """A claim file's data and its claims' lines, as ``load.read_yaml`` would give them,
    or None where this cannot be sure of that (see the module's docstring)."""
    data = mapping(text)
    if data is None or not isinstance(data.get("claims"), list):
        return None
    lines = _item_lines(text, len(data["claims"]))
    return None if lines is None else (data, lines)


def mapping(text: str) -> dict[str, Any] | None:
    """A fact file's data, a mapping, as ``load.read_yaml`` would give it, or None where
    this cannot be sure of that (the module's docstring, less its last point)."""
    if yaml_rs is None or _PARTING_CHARACTER.search(text) or text.startswith("%") or "\n%" in text:
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # (anything yaml-rs cannot read: PyYAML reads it, or says why)
        return None
    if not isinstance(data, dict):
        return None
    zeros = _leading_zeros(text)
    strings: list[str] | None = [] if zeros else None
    doubtful = _doubtful(data, strings)
    if doubtful is None or any(_unquoted(s, text) for s in doubtful):
        return None
    if strings is not None and zeros != _leading_zeros("\n".join(strings)):
        return None  # (one is not inside a string: a number written with a leading zero)
    return data


def _leading_zeros(text: str) -> int:
    """How many numbers in ``text`` may be written with a leading zero (``012``, ``-012``,
    ``0o12``, ``0b1``, ``0_1``), or parts of words or numbers that look so ("45,000", not
    "2020-09" or "a-01"): a 0 followed by a digit, o, b or _, after no letter, digit, _ or
    dot, nor a sign that is itself after one."""
    n = 0
    for m in _ZERO.finditer(text):
        i = m.start()
        before = text[i - 1] if i else ""
        if before in "+-":
            before = text[i - 2] if i > 1 else ""
        n += before not in _WORDISH
    return n


def _doubtful(value: Any, strings: list[str] | None) -> set[str] | None:
    """The strings in ``value`` PyYAML would have read as another type had they been written
    plain (``2020-01-01``, ``yes``, ``1:20``: its own resolvers decide), where yaml-rs would
    have read them as strings too; None when ``value`` holds what PyYAML does not give the
    same: a float, a date, any other type, a key not a string, a string only of white space
    (an empty block scalar: "" in PyYAML). Every string goes to ``strings`` (if given), each
    key once (a key written with a leading zero in many mappings is then counted short, and
    the file left to PyYAML)."""
    by_first, anywhere = _resolvers()
    doubtful: set[str] = set()
    get = by_first.get
    keep = strings.append if strings is not None else None
    keys: set[str] = set()  # (keys repeat in every claim: each is looked at once)

    def sound(s: str) -> bool:
        """A string looked at: False if only white space; noted if doubtful."""
        if keep:
            keep(s)
        if s.isspace():
            return False
        resolver = get(s[:1], anywhere)
        if resolver is not None and resolver.match(s) and _plain(s):
            doubtful.add(s)
        return True

    stack = [value]
    while stack:
        v = stack.pop()
        t = v.__class__
        if t is dict:
            for k, x in v.items():
                if k not in keys:
                    if k.__class__ is not str or not sound(k):
                        return None
                    keys.add(k)
                t = x.__class__
                if t is str:  # (a value's string looked at here, not put on the stack)
                    if not sound(x):
                        return None
                elif t is not int and t is not bool and x is not None:
                    stack.append(x)
        elif t is str:
            if not sound(v):
                return None
        elif t is list:
            stack.extend(v)
        elif t is not int and t is not bool and v is not None:
            return None
    return doubtful


def _unquoted(s: str, text: str) -> bool:
    """Whether ``s`` is in ``text`` anywhere but between quotes, where it may be a plain
    scalar (a plain scalar neither starts nor ends next to a quote)."""
    return re.search(rf"(?<![\"']){re.escape(s)}|{re.escape(s)}(?![\"'])", text) is not None


def _plain(s: str) -> bool:
    """Whether yaml-rs reads ``s`` written plain as the string ``s`` (when it reads another
    type, ``2020`` or ``null``, a string ``s`` was quoted: a string in both)."""
    got = _PLAIN.get(s)
    if got is None:
        try:
            read = yaml_rs.loads(f"a: {s}", parse_datetime=False)
            got = isinstance(read, dict) and isinstance(read.get("a"), str) and read["a"] == s
        except Exception:
            got = False
        _PLAIN[s] = got
    return got


def _resolvers() -> tuple[dict[str, Any], Any]:
    """PyYAML's implicit resolvers (``load.implicit_resolvers``), each first character's
    made one pattern, and that for any character (None if there is none): a string the
    pattern matches would not be a string in PyYAML."""
    global _BY_FIRST
    if _BY_FIRST is None:
        from .load import implicit_resolvers

        by_first, anywhere = implicit_resolvers()

        def one(resolvers: list[Any]) -> Any:
            return re.compile("|".join(f"(?:{r.pattern})" for _, r in resolvers), re.X) if resolvers else None

        _BY_FIRST = ({first: one(resolvers) for first, resolvers in by_first.items()}, one(anywhere))
    return _BY_FIRST


def _item_lines(text: str, n: int) -> list[int] | None:
    """The line of each of the ``n`` claims (where its node starts, as PyYAML marks it), or
    None. The claims must be a block sequence under the top-level ``claims:`` key: every
    item of such a sequence starts a line with its dash, at one indentation, so the lines
    starting so (after the key) include them all; when there are exactly ``n``, they are
    they. A dash alone on its line (or with a comment) starts its node on the next line
    with something on it."""
    if n == 0:
        return []
    key = _CLAIMS_KEY.search(text)
    first = _FIRST_ITEM.search(text, key.end()) if key else None
    if first is None:
        return None
    dash = "\n" + first.group(1) + "-"
    starts = []
    at = first.start() - 1  # (the line feed before it: the key is above)
    while at >= 0:
        after = at + len(dash)
        if text[after : after + 1] in (" ", "\n", ""):
            starts.append(at + 1)
        at = text.find(dash, after)
    if len(starts) != n:
        return None
    lines = []
    line, at = 1, 0
    for s in starts:
        line += text.count("\n", at, s)
        at = s
        end = text.find("\n", s)
        rest = text[s + len(dash) - 1 : end if end >= 0 else len(text)].strip()
        lines.append(line if rest and not rest.startswith("#") else _next_content_line(text, end, line))
    return lines


def _next_content_line(text: str, at: int, line: int) -> int:
    """The number of the first line after the one ending at ``at`` (numbered ``line``) with
    anything but spaces or a comment on it."""
    while at >= 0:
        end = text.find("\n", at + 1)
        line += 1
        content = text[at + 1 : end if end >= 0 else len(text)].strip()
        if content and not content.startswith("#"):
            return line
        at = end
    return line
