"""``--format csv``: a header row and a row per record (``rows.flatten``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rows import flatten

if TYPE_CHECKING:
    from . import View


def render(view: View, result: Any) -> str:
    import csv
    import io

    flat = flatten(view, result)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=flat.fields, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(flat.rows)
    return buf.getvalue()
