"""``svenn-sync link | keep-apart | unlink`` and ``failures resolve``: a person's answers to what
the sync held back.

Two records of both systems are given as ``--svenn ID --tripletex ID``; two records of one
system as ``--svenn ID --of ID`` (or ``--tripletex ID --of ID``):

- ``link``: the same thing (both systems: linked and merged; one system: a duplicate, left out);
- ``keep-apart``: different things (never proposed again; one system: not a duplicate);
- ``unlink``: undo either (the link is dropped; nothing is deleted in either system).

After a decision, the open rows that waited on it (the records' own, their candidates', the
projects of a customer) are retried at once, so what can now sync does.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer
from rich.console import Console

from store.decisions import Pair

console = Console()

SvennOption = Annotated[str | None, typer.Option("--svenn", help="The Svenn record's id.")]
TripletexOption = Annotated[
    str | None, typer.Option("--tripletex", help="The Tripletex record's id.")
]
OfOption = Annotated[
    str | None,
    typer.Option("--of", help="Another record of the same system (a duplicate question)."),
]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (stored with the decision).")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (stored).")]


def _refuse(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


def pair_from(svenn: str | None, tripletex: str | None, of: str | None) -> Pair:
    """The pair the options name, or a one-sentence refusal."""
    if svenn and tripletex and not of:
        return Pair(svenn_id=svenn, tripletex_id=tripletex)
    if of and bool(svenn) != bool(tripletex):
        side = "svenn" if svenn else "tripletex"
        return Pair(side=side, record_id=svenn or tripletex, other_id=of)
    _refuse("name two records: --svenn ID --tripletex ID, or one of them with --of ID")
    raise AssertionError  # unreachable: _refuse exits


def _run(
    action: Callable[..., Coroutine[Any, Any, Any]], tenant: str, by: str, **kwargs: Any
) -> None:
    """Apply a decision, print what it did, then retry the rows that waited on it."""
    from cli.common import clear_errors, open_store
    from tasks.decisions import DecisionRefused

    with clear_errors():
        store = open_store(migrate=True)
        try:
            outcome: Any = asyncio.run(action(store, tenant, by=by, **kwargs))
        except DecisionRefused as refused:
            _refuse(str(refused))
    console.print(f"{tenant}: {outcome.message}", highlight=False, soft_wrap=True)
    if outcome.changed and outcome.retry_rows:
        _retry(tenant, outcome.retry_rows, by)


def _retry(tenant: str, rows: list[int], by: str) -> None:
    from flows.retry_failed import retry_failed

    async def run() -> Any:
        return await retry_failed(tenant, failure_ids=rows, retried_by=by, return_state=True)

    state = asyncio.run(run())
    if not state.is_completed():
        console.print(f"{tenant}: the waiting rows were not retried: {state.message}")
        return
    done = state.result()[tenant]
    console.print(
        f"{tenant}: {done['retried']} waiting row(s) retried, {done['resolved']} resolved, "
        f"{done['still_open']} still open",
        highlight=False,
    )


def link_command(
    tenant: str,
    entity: str,
    by: ByOption,
    svenn: SvennOption = None,
    tripletex: TripletexOption = None,
    of: OfOption = None,
    reason: ReasonOption = None,
) -> None:
    """These are the same thing: link (and merge) them, or leave a duplicate out (--of)."""
    from tasks.decisions import link_records, mark_duplicate

    pair = pair_from(svenn, tripletex, of)
    if pair.same_side:
        _run(mark_duplicate, tenant, by, entity_name=entity, pair=pair, reason=reason)
    else:
        _run(
            link_records,
            tenant,
            by,
            entity_name=entity,
            svenn_id=pair.svenn_id,
            tripletex_id=pair.tripletex_id,
            reason=reason,
        )


def keep_apart_command(
    tenant: str,
    entity: str,
    by: ByOption,
    svenn: SvennOption = None,
    tripletex: TripletexOption = None,
    of: OfOption = None,
    reason: ReasonOption = None,
) -> None:
    """These are different things: never propose the pair again (or: not a duplicate)."""
    from tasks.decisions import keep_apart

    pair = pair_from(svenn, tripletex, of)
    _run(keep_apart, tenant, by, entity_name=entity, pair=pair, reason=reason)


def unlink_command(
    tenant: str,
    entity: str,
    by: ByOption,
    svenn: SvennOption = None,
    tripletex: TripletexOption = None,
    of: OfOption = None,
) -> None:
    """Undo a link or a decision about two records; nothing is deleted in either system."""
    from tasks.decisions import undo_decision

    pair = pair_from(svenn, tripletex, of)
    _run(undo_decision, tenant, by, entity_name=entity, pair=pair)


def resolve_command(
    tenant: str,
    failure_id: Annotated[int, typer.Argument(metavar="ROW_ID")],
    keep: Annotated[str, typer.Option("--keep", help="svenn or tripletex: whose value stays.")],
    by: ByOption,
) -> None:
    """Answer a FIELD_CONFLICT row: keep that system's value on both sides."""
    from tasks.conflict_choice import keep_value

    _run(keep_value, tenant, by, row_id=failure_id, keep=keep)


def register(app: typer.Typer, failures: typer.Typer) -> None:
    """Add the decision commands to the CLI."""
    app.command("link")(link_command)
    app.command("keep-apart")(keep_apart_command)
    app.command("unlink")(unlink_command)
    failures.command("resolve")(resolve_command)
