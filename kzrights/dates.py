"""Dates as the fact base writes them: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

One check serves every reader of a date: the loader (a claim's ``date``), the command line
and the MCP server (``--since``/``--until``) and the finder (``since:``). No import beyond
``re``: the filters run on the hot path of a query.
"""

from __future__ import annotations

import re

from .errors import UsageError

# ASCII digits only (\d would take ٢٠٢٠ and ２０２０), and \Z: $ would let a final newline through.
DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?\Z")
ACCEPTED = "accepted: YYYY, YYYY-MM, YYYY-MM-DD"
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(year: int, month: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 29 if month == 2 and leap else _DAYS[month - 1]


def date_problem(value: str) -> str | None:
    """None if ``value`` is a real calendar date at its precision, else why not
    (``2020-02-30`` has no day 30)."""
    m = DATE_RE.match(value)
    if not m:
        return "is not an ISO date (use 2020, 2020-06 or 2020-06-06)"
    year, month, day = m.groups()
    if month and not 1 <= int(month) <= 12:
        return f"has no month {month}"
    if day and not 1 <= int(day) <= _days_in(int(year), int(month)):
        return f"has no day {day} in {year}-{month}"
    return None


def checked_date(option: str, value: str | None) -> str | None:
    """A date given as an option (``--since``, ``until``), or ``UsageError`` naming the option."""
    if value is not None and date_problem(value):
        raise UsageError(f"{option}: not a date: {value!r} ({ACCEPTED})")
    return value


def date_span(value: str) -> tuple[str, str]:
    """The first and last day a checked date covers: ``2020-06`` -> ``2020-06-01``, ``2020-06-31``.

    Day 31 for every month is fine here: bounds are only compared as strings.
    """
    y, _, rest = value.partition("-")
    mo, _, d = rest.partition("-")
    return f"{y}-{mo or '01'}-{d or '01'}", f"{y}-{mo or '12'}-{d or '31'}"


def date_bounds(value: str) -> tuple[str, str]:
    """``date_span`` of a date that may not be one: ``UsageError`` when it is not."""
    if date_problem(value):
        raise UsageError(f"not a date: {value!r} ({ACCEPTED})")
    return date_span(value)
