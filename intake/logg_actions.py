"""The Logg page's buttons: "Dette er samme kunde" / "Dette er ulike kunder" on a held-back row
and "Behold denne verdien" on a field conflict, as plain HTML forms (no JavaScript needed).

A form is POSTed to ``/tenants/{tenant}/logg/rad/{row}``, a path the bearer gate leaves open, so
this module checks the proof itself: the Logg link's signature (``sig``) and a per-form token,
the HMAC (link key) of the tenant, the row, the action and the link's expiry, so a form works
only for the row, the choice and the link it was rendered for. The person names themself in the
form; the decision goes through the same service as the CLI and the tenant API
(:func:`intake.tenant_decisions.apply_decision`, :func:`tasks.conflict_choice.keep_value`), and
the browser is sent back to the page with what happened (post/redirect/get).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from intake.logg_link import REFUSALS, LinkCheck, check
from intake.pages import refusal
from intake.tenant_decisions import apply_decision, schedule_retry
from store.decisions import Pair
from store.models import FailedRecord
from sync.record_card import card_of
from tasks.decisions import DecisionOutcome, DecisionRefused, open_row
from tasks.tenant import state_store

HELD_BACK = {"AMBIGUOUS_MATCH", "MATCH_CONFLICT", "DUPLICATE_IN_SOURCE"}
SYSTEMS = {"svenn": "Svenn", "tripletex": "Tripletex"}
SAME = {"customer": "samme kunde", "employee": "samme ansatt", "project": "samme prosjekt"}
APART = {"customer": "ulike kunder", "employee": "ulike ansatte", "project": "ulike prosjekter"}
DONE: dict[str, str] = {
    "samme": "Registrert: de to er nå samme oppføring, og raden er løst.",
    "ulike": "Registrert: de to holdes adskilt og synkroniseres hver for seg fra nå av.",
    "behold": "Registrert: verdien du valgte er skrevet til begge systemene, og raden er løst.",
    "uendret": "Ingenting å gjøre: dette var allerede registrert.",
}
BAD_TOKEN = (
    "Skjemaet mangler et gyldig sikkerhetsmerke; last Loggen på nytt og prøv igjen. "
    "Ingenting er endret."
)
NO_NAME = "Skriv navnet ditt eller e-postadressen din før du velger; ingenting er endret."
MAX_FORM = 4096


@dataclass
class Choice:
    """One button: its action (samme, ulike, behold), what it names, and its token."""

    action: str
    other: str
    text: str
    token: str


@dataclass
class ComparedRecord:
    """One record of the comparison: its system, id, card, and the buttons under it."""

    system: str
    record_id: str
    card: dict[str, Any]
    choices: list[Choice] = field(default_factory=list)


def form_token(key: SecretStr, tenant: str, row_id: int, choice: str, sig: str) -> str:
    """The per-form token: HMAC of tenant, row, action (with its choice) and link expiry."""
    expiry = sig.partition(".")[0]
    message = f"handling\n{tenant}\n{row_id}\n{choice}\n{expiry}".encode()
    return hmac.new(key.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def row_actions(
    session: Session, tenant: str, row_ids: list[int], key: SecretStr, sig: str
) -> dict[int, list[ComparedRecord]]:
    """For each open held-back or conflict row among ``row_ids``: the sides to compare."""
    wanted = HELD_BACK | {"FIELD_CONFLICT"}
    rows = session.scalars(
        select(FailedRecord).where(
            FailedRecord.tenant == tenant,
            FailedRecord.id.in_(row_ids),
            FailedRecord.status == "open",
            FailedRecord.reason_code.in_(wanted),
        )
    )

    def choice(row: FailedRecord, action: str, other: str, text: str) -> Choice:
        token = form_token(key, tenant, row.id, f"{action}:{other}", sig)
        return Choice(action, other, text, token)

    found: dict[int, list[ComparedRecord]] = {}
    for row in rows:
        if row.reason_code == "FIELD_CONFLICT":
            found[row.id] = _conflict_sides(row, choice)
        else:
            found[row.id] = _held_back_sides(row, choice)
    return found


def offered_buttons(reason_code: str, entity: str = "customer") -> set[str]:
    """The buttons the page shows on an open row of ``reason_code`` (built as for a real row
    with one candidate, one duplicate and one conflicting field); none for other reasons."""
    row = FailedRecord(
        entity=entity,
        reason_code=reason_code,
        record_key="svenn:1",
        svenn_id="1",
        tripletex_id="2",
        target_error={"candidates": ["2"], "duplicate_of": ["3"], "conflicts": [{"field": "x"}]},
    )

    def choice(row: FailedRecord, action: str, other: str, text: str) -> Choice:
        return Choice(action, other, text, "")

    if reason_code == "FIELD_CONFLICT":
        sides = _conflict_sides(row, choice)
    elif reason_code in HELD_BACK:
        sides = _held_back_sides(row, choice)
    else:
        sides = []
    return {c.text for side in sides for c in side.choices}


def _held_back_sides(row: FailedRecord, choice: Any) -> list[ComparedRecord]:
    """The row's own record, then each candidate with "same" / "different" buttons."""
    side, own = row.record_key.split(":", 1)
    details = row.target_error or {}
    cards = details.get("cards") or {}
    if row.reason_code == "DUPLICATE_IN_SOURCE":
        system, ids = side, details.get("duplicate_of") or []
    else:
        system = "svenn" if side == "tripletex" else "tripletex"
        ids = details.get("candidates") or []
    sides = [ComparedRecord(SYSTEMS[side], own, card_of(row.entity, row.payload))]
    for other in ids:
        card = cards.get(other) or {"name": None}
        sides.append(
            ComparedRecord(
                SYSTEMS[system],
                other,
                card,
                [
                    choice(row, "samme", other, f"Dette er {SAME.get(row.entity, 'det samme')}"),
                    choice(row, "ulike", other, f"Dette er {APART.get(row.entity, 'ulike')}"),
                ],
            )
        )
    return sides


def _conflict_sides(row: FailedRecord, choice: Any) -> list[ComparedRecord]:
    """Each system's values of the conflicting fields, with "Behold denne verdien"."""
    conflicts = (row.target_error or {}).get("conflicts") or []
    return [
        ComparedRecord(
            SYSTEMS[system],
            str(row.svenn_id if system == "svenn" else row.tripletex_id),
            {c.get("field"): c.get(system) for c in conflicts},
            [choice(row, "behold", system, "Behold denne verdien")],
        )
        for system in SYSTEMS
    ]


def logg_router(settings: Settings) -> APIRouter:
    """The route the Logg page's forms post to, under ``settings``' link key."""
    router = APIRouter()
    answers: dict[int | str, dict[str, Any]] = {
        303: {"description": "Done: back to the Logg page, which says what happened."},
        403: {"content": {"text/html": {}}, "description": "Bad link or form token."},
        422: {  # a refused decision is a page; a malformed path is JSON, as on every route
            "description": "Refused in one sentence; nothing changed.",
            "content": {
                "text/html": {},
                "application/json": {"schema": {"$ref": "#/components/schemas/Answer"}},
            },
        },
    }

    @router.post("/tenants/{tenant}/logg/rad/{row_id}", responses=answers)
    async def logg_action(
        request: Request, tenant: str, row_id: int, background: BackgroundTasks
    ) -> Any:
        form = await _form(request)
        sig = form.get("sig", "")
        verdict = check(settings.logg_link_key, tenant, sig)
        if verdict is not LinkCheck.VALID:
            return refusal(request, REFUSALS[verdict], 403)
        action, other = form.get("action", ""), form.get("other", "")
        expected = form_token(settings.logg_link_key, tenant, row_id, f"{action}:{other}", sig)
        if not hmac.compare_digest(form.get("token", "").encode(), expected.encode()):
            return refusal(request, BAD_TOKEN, 403)
        by = form.get("by", "").strip()
        if not by or len(by) > 200:
            return refusal(request, NO_NAME, 422)
        try:
            outcome = await _decide(tenant, row_id, action, other, by)
        except DecisionRefused as refused:
            return _refused(request, str(refused))
        schedule_retry(outcome, tenant, background, by)
        said = action if outcome.changed else "uendret"
        query = urlencode({"sig": sig, "utfall": said, "rad": row_id})
        return RedirectResponse(f"/tenants/{quote(tenant, safe='')}/logg?{query}", 303)

    return router


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


async def _decide(tenant: str, row_id: int, action: str, other: str, by: str) -> DecisionOutcome:
    """The decision a button asks for, through the service the CLI and the API use."""
    from tasks.conflict_choice import keep_value

    if action == "behold":
        return await keep_value(state_store(), tenant, row_id, other, by=by)
    row = open_row(state_store(), tenant, row_id)
    side, own = row.record_key.split(":", 1)
    details = row.target_error or {}
    if other in (details.get("duplicate_of") or []):
        pair = Pair(side=side, record_id=own, other_id=other)
    elif other in (details.get("candidates") or []):
        svenn, tripletex = (own, other) if side == "svenn" else (other, own)
        pair = Pair(svenn_id=svenn, tripletex_id=tripletex)
    else:
        raise DecisionRefused(f"row {row_id} does not name {other!r}")
    verb = {"samme": "link", "ulike": "keep-apart"}.get(action)
    if verb is None:
        raise DecisionRefused(f"{action!r} is not an action of the Logg page")
    return await apply_decision(tenant, verb, row.entity, pair, by=by, reason="Loggen")


def _refused(request: Request, reason: str) -> HTMLResponse:
    sentence = f"Handlingen ble ikke utført, og ingenting er endret ({reason})."
    return refusal(request, sentence, 422)
