"""``/v2/event/subscription`` (CRUD and list) and the ``/_admin/webhooks`` knobs."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request, Response

from .api import Call, call_of, id_list, json_response, read_json
from .delivery import DeliveryKnobs
from .errors import TripletexError, not_found
from .fields import NO_DIGEST, page_bounds
from .model import check_version
from .spec_rules import parse_int
from .state import Company
from .webhooks import EVENTS, Subscription, WebhookHub, apply_body


def hub_of(request: Request) -> WebhookHub:
    """The sandbox's webhook hub."""
    hub: WebhookHub = request.app.state.webhooks
    return hub


def notify_written(
    request: Request, company: Company, entity: str, verb: str, rows: list[dict[str, Any]]
) -> None:
    """The hook a successful write calls: queue ``entity.verb`` events (never waits)."""
    hub_of(request).notify(company, entity, verb, rows, request.headers.get("host", ""))


def _host(call: Call) -> str:
    return call.request.headers.get("host", "tripletex.no")


def _owned(call: Call, ident: Any) -> Subscription:
    key = parse_int(ident)
    if key is None:
        raise TripletexError(400, 12000, developer_message=f"Illegal path parameter: {ident}")
    sub = hub_of(call.request).subscriptions.get(key)
    if sub is None or sub.token != call.session.employee_token.token:
        raise not_found("Subscription")
    return sub


def _create(call: Call, body: Any) -> Subscription:
    sub = Subscription(
        id=0,
        company_id=call.company.id,
        token=call.session.employee_token.token,
        event="",
        target_url="",
    )
    apply_body(sub, body, creating=True)
    sub.id = call.sandbox.new_id()
    return sub


def _update(call: Call, sub: Subscription, body: Any) -> Subscription:
    check_version({"version": sub.version}, body)
    changed = copy.copy(sub)
    apply_body(changed, body, creating=False)
    changed.version += 1
    return changed


def _list_body(call: Call, subs: list[Subscription]) -> dict[str, Any]:
    return {
        "fullResultSize": len(subs),
        "from": 0,
        "count": len(subs),
        "versionDigest": NO_DIGEST,
        "values": [s.render(_host(call)) for s in subs],
    }


def _items(body: Any, limit: int) -> list[Any]:
    if not isinstance(body, list):
        raise TripletexError(422, 16000, developer_message="Expected a JSON array")
    if len(body) > limit:
        raise TripletexError(422, 15000, developer_message=f"At most {limit} objects per call")
    return body


def _store(hub: WebhookHub, subs: list[Subscription]) -> None:
    with hub.lock:
        for sub in subs:
            hub.subscriptions[sub.id] = sub
            if sub.status != "ACTIVE":
                hub.queue.discard(sub.id)


def subscription_router() -> APIRouter:
    """The event subscription endpoints, shaped as in the spec."""
    router = APIRouter(prefix="/v2/event")

    @router.get("")
    async def events(request: Request) -> Response:
        call_of(request)
        return json_response({"value": {e: {"description": e} for e in sorted(EVENTS)}})

    @router.get("/subscription")
    async def search(request: Request) -> Response:
        call = call_of(request)
        subs = hub_of(request).owned(call.session.employee_token.token)
        start, count = page_bounds(request.query_params)
        page = subs[start : start + count]
        body = _list_body(call, page)
        body.update({"fullResultSize": len(subs), "from": start})
        return json_response(body)

    @router.post("/subscription")
    async def create(request: Request) -> Response:
        call = call_of(request)
        sub = _create(call, await read_json(request))
        _store(hub_of(request), [sub])
        return json_response({"value": sub.render(_host(call))}, 201)

    @router.post("/subscription/list")
    async def create_many(request: Request) -> Response:
        call = call_of(request)
        items = _items(await read_json(request), call.sandbox.max_batch)
        subs = [_checked(index, _create, call, item) for index, item in enumerate(items)]
        _store(hub_of(request), subs)
        return json_response(_list_body(call, subs), 201)

    @router.put("/subscription/list")
    async def update_many(request: Request) -> Response:
        call = call_of(request)
        items = _items(await read_json(request), call.sandbox.max_batch)
        subs = [_checked(index, _update_item, call, item) for index, item in enumerate(items)]
        _store(hub_of(request), subs)
        return json_response(_list_body(call, subs))

    @router.delete("/subscription/list")
    async def delete_many(request: Request) -> Response:
        call = call_of(request)
        wanted = id_list(request.query_params.get("ids"))
        if not wanted:
            raise TripletexError(422, 15000, validation=[("ids", "Kan ikke være null.")])
        subs = [_owned(call, ident) for ident in sorted(wanted)]
        for sub in subs:
            hub_of(request).remove(sub)
        return Response(status_code=204)

    @router.get("/subscription/{id}")
    async def get_one(request: Request) -> Response:
        call = call_of(request)
        sub = _owned(call, request.path_params["id"])
        return json_response({"value": sub.render(_host(call))})

    @router.put("/subscription/{id}")
    async def update(request: Request) -> Response:
        call = call_of(request)
        sub = _update(call, _owned(call, request.path_params["id"]), await read_json(request))
        _store(hub_of(request), [sub])
        return json_response({"value": sub.render(_host(call))})

    @router.delete("/subscription/{id}")
    async def delete(request: Request) -> Response:
        call = call_of(request)
        hub_of(request).remove(_owned(call, request.path_params["id"]))
        return Response(status_code=204)

    return router


def _update_item(call: Call, item: Any) -> Subscription:
    ident = item.get("id") if isinstance(item, dict) else None
    return _update(call, _owned(call, ident), item)


def _checked(index: int, make: Any, call: Call, item: Any) -> Subscription:
    """One item of a list call; an error names the item's index (nothing is stored then)."""
    try:
        sub: Subscription = make(call, item)
    except TripletexError as error:
        error.path_prefix = f"[{index}]."
        raise
    return sub


def webhook_admin_router() -> APIRouter:
    """``/_admin/webhooks``: delivery knobs, subscriptions' state and the delivery log."""
    router = APIRouter(prefix="/_admin/webhooks")

    @router.get("")
    async def state(request: Request) -> Response:
        hub = hub_of(request)
        subs = [
            {**s.render(""), "companyId": s.company_id, "failures": s.failures}
            for s in hub.subscriptions.values()
        ]
        knobs = hub.queue.knobs.model_dump()
        waiting = hub.queue.waiting()
        return json_response({"knobs": knobs, "subscriptions": subs, "waiting": waiting})

    @router.put("")
    async def configure(request: Request, knobs: DeliveryKnobs) -> Response:
        hub_of(request).queue.configure(knobs)
        return json_response({"knobs": knobs.model_dump()})

    @router.get("/deliveries")
    async def deliveries(request: Request) -> Response:
        return json_response(list(hub_of(request).queue.log))

    @router.delete("/deliveries")
    async def clear(request: Request) -> Response:
        hub_of(request).queue.log.clear()
        return Response(status_code=204)

    return router
