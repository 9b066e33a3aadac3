"""``--format jsonl``: JSON Lines, one object a line (``contract.records``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contract import records
from .jsontext import json_value

if TYPE_CHECKING:
    from . import View


def render(view: View, result: Any) -> str:
    return "".join(json_value(r) + "\n" for r in records(view, result))
