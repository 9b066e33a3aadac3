"""``--format json``: one JSON document (``contract.document``), indented at a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contract import document
from .jsontext import dumps

if TYPE_CHECKING:
    from . import View


def render(view: View, result: Any) -> str:
    return dumps(document(view, result), pretty=view.pretty)
