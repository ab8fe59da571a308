"""Session expiry by Oslo's calendar, at the boundary, with a frozen clock on both sides.

Tripletex refuses an ``expirationDate`` that is not after *its* today (Oslo). Between 00:00 and
01:00 (02:00 in summer) Oslo time, a UTC machine's date is still yesterday: asking for "the
machine's tomorrow" then asks for Oslo's today, and a valid key is refused.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from connectors.http import HttpPolicy
from connectors.tripletex import TripletexClient
from connectors.tripletex.clock import OSLO, oslo_today
from sandboxes.runner import serve_in_thread
from sandboxes.tripletex.app import create_app

CONSUMER = "sandbox-consumer-token"
TOKEN = "employee-token-clock"
UTC = dt.UTC
# (instant, Oslo date at that instant): one second either side of Oslo midnight, winter (UTC+1)
# and summer (UTC+2).
BOUNDARY = [
    (dt.datetime(2026, 1, 15, 22, 59, 59, tzinfo=UTC), dt.date(2026, 1, 15)),
    (dt.datetime(2026, 1, 15, 23, 0, 1, tzinfo=UTC), dt.date(2026, 1, 16)),
    (dt.datetime(2026, 7, 15, 21, 59, 59, tzinfo=UTC), dt.date(2026, 7, 15)),
    (dt.datetime(2026, 7, 15, 22, 0, 1, tzinfo=UTC), dt.date(2026, 7, 16)),
]


def seed() -> dict[str, object]:
    return {
        "companies": [
            {
                "id": 1001,
                "name": "Klokke AS",
                "employeeTokens": [{"token": TOKEN, "entitlements": ["ALL"]}],
                "employees": [{"id": 11, "firstName": "Kari", "lastName": "Klokke"}],
            }
        ]
    }


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def sandbox() -> object:
    app = create_app(seed(), consumer_token=CONSUMER, rate_limit=0)
    with serve_in_thread(app) as root:
        yield app, f"{root}/v2"


def freeze(app: object, instant: dt.datetime) -> None:
    """The sandbox's clock is Oslo wall-clock time, naive (as Tripletex prints it)."""
    app.state.sandbox.clock = lambda: instant.astimezone(OSLO).replace(tzinfo=None)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("instant", "oslo_date"), BOUNDARY)
def test_oslo_today_at_the_boundary(instant: dt.datetime, oslo_date: dt.date) -> None:
    assert oslo_today(lambda: instant) == oslo_date


@pytest.mark.anyio
@pytest.mark.parametrize(("instant", "oslo_date"), BOUNDARY)
async def test_session_is_created_on_each_side_of_oslo_midnight(
    sandbox: tuple[object, str], instant: dt.datetime, oslo_date: dt.date
) -> None:
    app, url = sandbox
    freeze(app, instant)
    async with TripletexClient(
        url, CONSUMER, TOKEN, policy=HttpPolicy(max_retries=0), now=lambda: instant
    ) as tx:
        me = await tx.who_am_i()
        assert me.employee_id == 11
        sessions = app.state.sandbox.sessions.values()  # type: ignore[attr-defined]
        # Tomorrow, unless Oslo's midnight is less than an hour away (one second, in the cases
        # just before it): then the day after, so the token outlives the renewal margin.
        expected = oslo_date + dt.timedelta(days=1 if instant.astimezone(OSLO).hour < 23 else 2)
        assert max(s.expiration_date for s in sessions) == expected
        assert not tx.session.needs_renewal
        # It is renewed just before Oslo midnight of its expiry day, not before.
        expiry = dt.datetime.combine(expected, dt.time(), tzinfo=OSLO)
        tx.session.now = lambda: expiry - dt.timedelta(minutes=11)
        assert not tx.session.needs_renewal
        tx.session.now = lambda: expiry - dt.timedelta(minutes=9)
        assert tx.session.needs_renewal


@pytest.mark.anyio
async def test_calls_in_the_last_minutes_before_oslo_midnight_share_one_session(
    sandbox: tuple[object, str],
) -> None:
    """Asking for "tomorrow" at 23:55 gave a token expiring within the renewal margin: every
    call made a new session until midnight. One session serves them all."""
    app, url = sandbox
    instant = dt.datetime(2026, 1, 15, 22, 55, tzinfo=UTC)  # 23:55 in Oslo
    freeze(app, instant)
    async with TripletexClient(
        url, CONSUMER, TOKEN, policy=HttpPolicy(max_retries=0), now=lambda: instant
    ) as tx:
        for _ in range(3):
            await tx.who_am_i()
        assert tx.session.generation == 1
        assert tx.api.counters.by_endpoint["POST /token/session"] == 1


def test_sandbox_refuses_the_utc_tomorrow_just_after_oslo_midnight(
    sandbox: tuple[object, str],
) -> None:
    """What the old client asked for: the UTC date + 1, which is Oslo's today. Refused."""
    app, url = sandbox
    instant = dt.datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 on the 16th in Oslo
    freeze(app, instant)
    body = {
        "consumerToken": CONSUMER,
        "employeeToken": TOKEN,
        "expirationDate": (instant.date() + dt.timedelta(days=1)).isoformat(),
    }
    refused = httpx.post(f"{url}/token/session/:create", json=body)
    assert refused.status_code == 422
    assert "Utløpsdatoen må være etter dagens dato" in refused.text
    body["expirationDate"] = "2026-01-17"
    assert httpx.post(f"{url}/token/session/:create", json=body).status_code == 201
