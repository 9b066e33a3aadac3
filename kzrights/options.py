"""The options the commands share, defined once: the filters, the output options every data
command takes (``--format``, ``--json``, ``--no-pager``, ``--facts``), and ``with_options``,
which gives a command function the ones it asks for, as sqlite-utils' ``@output_options``
does for its click commands."""

import inspect
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand

from .completion import Completes
from .render import Format

FactsOpt = Annotated[
    str | None,
    typer.Option(
        "--facts", metavar="DIR", help="Fact base folder (default: $KZRIGHTS_FACTS, else the one shipped with kzrights)."
    ),
]
NoPagerOpt = Annotated[bool, typer.Option("--no-pager", help="Never page the output (or set KZRIGHTS_PAGER=).")]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", metavar="FORMAT", help="table, json, jsonl, csv or markdown.", case_sensitive=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", help="Most results to show.", min=1)]
ClaimsLimitOpt = Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Most claims to show.")]
ReportOpt = Annotated[
    str | None,
    typer.Option(
        "--report",
        "-r",
        metavar="REPORT",
        help="Only claims of this report (fpc-2021, nit-2021).",
        click_type=Completes("report"),
    ),
]


def _entity_option(flag: str, short: str, help_: str, kind: str) -> Any:
    """A filter by a named entity: any spelling, completed from the fact base's names."""
    return Annotated[str | None, typer.Option(flag, short, metavar="NAME", help=help_, click_type=Completes(kind))]


PersonOpt = _entity_option("--person", "-p", "Only claims about this person (any spelling).", "person")
OrgOpt = _entity_option("--org", "-o", "Only claims about this organisation (or abbreviation).", "organization")
TopicOpt = Annotated[
    str | None,
    typer.Option(
        "--topic",
        "-t",
        metavar="TOPIC",
        help="Only claims on this topic (id, label or synonym).",
        click_type=Completes("topic-id"),
    ),
]
SinceOpt = Annotated[
    str | None, typer.Option("--since", metavar="DATE", help="Only claims dated in or after YYYY[-MM[-DD]] (by overlap).")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", metavar="DATE", help="Only claims dated in or before YYYY[-MM[-DD]] (by overlap).")
]
FILTERS = {"report": ReportOpt, "person": PersonOpt, "org": OrgOpt, "topic": TopicOpt, "since": SinceOpt, "until": UntilOpt}
ALL_FILTERS = tuple(FILTERS)


class Out(NamedTuple):
    """The output options of a data command."""

    fmt: Format
    facts: str | None
    pager: bool


class Command(TyperCommand):
    """A command whose usage line shows ``QUERY...``, not Typer's ``{QUERY}``, and whose line
    in the list of commands is its help's first paragraph as one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.short_help is None and self.help:
            self.short_help = " ".join(inspect.cleandoc(self.help).split("\n\n")[0].split())

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


OUTPUT_PARAMS = [
    _keyword("fmt", FormatOpt, Format.table),
    _keyword("as_json", JsonOpt, False),
    _keyword("no_pager", NoPagerOpt, False),
    _keyword("facts", FactsOpt, None),
]


def with_options(
    func: Callable[..., None],
    filters: tuple[str, ...],
    run: Callable[[dict[str, Any], dict[str, Any], Out], None],
    doc: str | None,
) -> Callable[..., None]:
    """A function for Typer with ``func``'s own parameters (all but ``filters`` and ``out``),
    then the filter options named and the output options; called, it hands ``run`` the
    values of ``func``'s own parameters, the filters' and an ``Out``."""
    own = [p for p in inspect.signature(func).parameters.values() if p.name not in ("filters", "out")]

    def command(**kw: Any) -> None:
        given = {k: kw.pop(k) for k in filters}
        fmt, as_json, no_pager, facts = (kw.pop(k) for k in ("fmt", "as_json", "no_pager", "facts"))
        run(kw, given, Out(Format.json if as_json else fmt, facts, not no_pager))

    params = own + [_keyword(k, FILTERS[k], None) for k in filters] + OUTPUT_PARAMS
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = doc or func.__doc__
    return command
