"""Shell completion that inserts something usable (bash, zsh, fish; Typer's machinery).

- A name (``person``, ``org``, ``topic``, ``--person``, ``--org``) completes to one entry per
  person, organisation or topic, under its main name, whichever spelling matched what was
  typed (``Tul`` offers "Asya Tulesova"); the spelling that matched is the entry's
  description where the shell shows one (zsh, fish).
- ``--topic`` completes to topic ids, ``--report``, ``--left`` and ``--right`` to report
  ids: one word each, as the options take them.
- What is inserted stays one argument: bash gets the name with its spaces escaped
  (``Zhanbolat\\ Mamay``), zsh and fish escape it themselves. zsh is also told to take the
  entries as they are (``compadd -U``): a main name need not begin with what was typed.

Typer (0.28, pinned) filters the entries of an ``autocompletion`` callback by the typed
prefix, which would drop "Asya Tulesova" for ``Tul``; so names are completed by a click
parameter type (``Completes``), whose entries are taken as given.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from typer._click.shell_completion import CompletionItem, add_completion_class
from typer._click.types import ParamType
from typer._completion_classes import BashComplete, ZshComplete
from typer.core import TyperGroup

if TYPE_CHECKING:
    from .factbase import FactBase

MOST = 50  # entries offered at once


def name_entries(fb: FactBase, kinds: Sequence[str], typed: str) -> list[tuple[str, str]]:
    """(main name, description) of every entity or topic of ``kinds`` one of whose spellings
    starts with ``typed`` (``queries.matching_names``): the spellings that matched, when the
    main name is not one of them, else its role, category or kind."""
    from .queries import matching_names

    matched: dict[str, list[str]] = {}
    for tag, form in matching_names(fb, kinds, typed):
        matched.setdefault(tag, []).append(form)
    out = []
    for tag, forms in matched.items():
        kind, ref = tag.split(":", 1)
        if kind == "topic":
            name, about = fb.topics[ref].label, "topic"
        else:
            e = fb.entities[tag]
            name, about = e.name, e.role or e.category or e.kind
        out.append((name, about if name in forms else ", ".join(dict.fromkeys(forms))))
    return sorted(out, key=lambda e: e[0].casefold())[:MOST]


def _fact_base(ctx: Any) -> FactBase | None:
    """The fact base the command line names so far (``--facts``, before or after the
    command), else ``$KZRIGHTS_FACTS`` or the packaged one; None when it cannot be loaded."""
    from .errors import KzrightsError
    from .factbase import FactBase

    facts = None
    while ctx is not None and facts is None:
        facts = (ctx.params or {}).get("facts")
        ctx = ctx.parent
    try:
        return FactBase.load(facts or os.environ.get("KZRIGHTS_FACTS"))
    except KzrightsError:
        return None


class Completes(ParamType):
    """A text argument or option whose completion comes from the fact base: names of
    ``kinds`` (``person``, ``organization``, ``topic``), or the ids of topics (``topic-id``)
    or reports (``report``)."""

    name = "text"

    def __init__(self, *kinds: str) -> None:
        self.kinds = kinds

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        return value

    def shell_complete(self, ctx: Any, param: Any, incomplete: str) -> list[CompletionItem]:
        fb = _fact_base(ctx)
        if fb is None:
            return []
        if self.kinds == ("report",):
            entries = [(r.id, r.short) for r in fb.reports.values() if r.id.startswith(incomplete)]
        elif self.kinds == ("topic-id",):
            entries = [(t.id, t.label) for t in fb.topics.values() if t.id.startswith(incomplete.casefold())]
        else:
            entries = name_entries(fb, self.kinds, incomplete)
        return [CompletionItem(value, help=about) for value, about in entries]


def bash_quote(value: str) -> str:
    """``value`` as bash reads one word: every character but letters, digits and ``-_./:@%+,=``
    escaped with a backslash, as bash's own file name completion writes it."""
    return "".join(ch if ch.isalnum() or ch in "-_./:@%+,=" else "\\" + ch for ch in value)


class QuotedBash(BashComplete):
    """bash inserts what it is given as it is: a name with a space is escaped first."""

    def format_completion(self, item: CompletionItem) -> str:
        return bash_quote(str(item.value))


def _zsh_word(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class TakenZsh(ZshComplete):
    """zsh takes the entries as given (``compadd -U``: a main name need not begin with what
    was typed), quotes what it inserts, and shows each entry's description beside it."""

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        if not items:
            return "_files"
        values = " ".join(_zsh_word(str(i.value)) for i in items)
        shown = " ".join(_zsh_word(f"{i.value}  -- {i.help}" if i.help else str(i.value)) for i in items)
        # The script runs this through eval $(...): one line, every word single-quoted.
        out = f"local -a _kz_v _kz_d; _kz_v=({values}); _kz_d=({shown}); compadd -U -l -d _kz_d -a _kz_v"
        if len(items) > 1 and not all(str(i.value).startswith(incomplete) for i in items):
            # names with nothing in common before what was typed: offer them in a menu, the
            # first inserted, Tab for the next (their common part would erase the typing)
            out += "; compstate[insert]=menu"
        return out


class Group(TyperGroup):
    """The app's group: completion answers through ``QuotedBash`` and ``TakenZsh``."""

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        add_completion_class(QuotedBash, "bash")
        add_completion_class(TakenZsh, "zsh")
        super()._main_shell_completion(ctx_args, prog_name, complete_var)
