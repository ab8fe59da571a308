"""Event subscriptions (``/event/subscription``, [BETA] in the spec): list, create, delete.

Subscriptions belong to the employee token that made them (FACTS.md §5). ``hmacSharedSecret``
is write-only: it is sent on create and never read back; the client registers it as a secret,
so no error message or log line can show it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from connectors.http import Answer, ApiClient

SUBSCRIPTION_FIELDS = "id,event,targetUrl,status,fields"
LIST_PAGE = 1000


@dataclass(frozen=True)
class Subscription:
    """One subscription as Tripletex shows it (the secret never)."""

    id: int
    event: str
    target_url: str
    status: str
    fields: str | None


@dataclass(frozen=True)
class NewSubscription:
    """What to subscribe: an event, where to, and which fields the delivery's value holds."""

    event: str
    target_url: str
    fields: str


def _subscription(raw: Any) -> Subscription:
    return Subscription(
        int(raw["id"]),
        str(raw.get("event") or ""),
        str(raw.get("targetUrl") or ""),
        str(raw.get("status") or "ACTIVE"),
        raw.get("fields"),
    )


class TripletexSubscriptions:
    """Subscription calls; mixed into :class:`TripletexClient`, which provides ``call``."""

    call: Callable[..., Awaitable[Answer]]
    api: ApiClient

    async def list_subscriptions(self) -> list[Subscription]:
        """Every subscription of this employee token."""
        found: list[Subscription] = []
        start = 0
        while True:
            params = {"from": start, "count": LIST_PAGE, "fields": SUBSCRIPTION_FIELDS}
            response = await self.call("GET", "/event/subscription", params=params)
            body = response.json()
            values = body.get("values") or []
            found += [_subscription(v) for v in values]
            start += len(values)
            if not values or start >= int(body.get("fullResultSize") or 0):
                return found

    async def create_subscriptions(
        self, wanted: Sequence[NewSubscription], secret: SecretStr
    ) -> list[Subscription]:
        """Create ``wanted`` in one call, each signing its deliveries with ``secret``."""
        if not wanted:
            return []
        self.api.add_secret(secret.get_secret_value())
        body = [
            {
                "event": w.event,
                "targetUrl": w.target_url,
                "fields": w.fields,
                "hmacSharedSecret": secret.get_secret_value(),
            }
            for w in wanted
        ]
        response = await self.call(
            "POST", "/event/subscription/list", json=body, endpoint="POST /event/subscription/list"
        )
        return [_subscription(v) for v in response.json().get("values") or []]

    async def delete_subscriptions(self, ids: Sequence[int]) -> None:
        """Delete the subscriptions ``ids`` in one call."""
        if ids:
            params = {"ids": ",".join(str(i) for i in sorted(ids))}
            await self.call("DELETE", "/event/subscription/list", params=params)
