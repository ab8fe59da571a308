"""Tripletex session tokens: create from the consumer and employee tokens, renew before expiry.

A session token is made with ``POST /token/session/:create`` and used as the password of HTTP
Basic auth (username: the company id, ``0`` for the token owner's own company). It expires at
midnight starting its ``expirationDate``; we ask for tomorrow and renew when that day begins
(or earlier, on a 401). "Tomorrow" and "midnight" are Oslo's: Tripletex refuses an
``expirationDate`` that is not after *its* today, whatever the machine's zone. In the last hour
before Oslo's midnight "tomorrow" would expire within the renewal margin, and every call would
make a new session; then the day after tomorrow is asked for.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

from connectors.errors import ApiError, RateLimitedError, TransientError
from connectors.http import ApiClient
from connectors.tripletex.clock import Clock, aware, oslo_midnight, oslo_today, utc_now
from connectors.tripletex.errors import TripletexAuthenticationError

CREATE_PATH = "/token/session/:create"
RENEW_MARGIN = dt.timedelta(minutes=10)
MIN_LIFETIME = dt.timedelta(hours=1)  # a new session lives at least this long


class SessionAuth:
    """Basic auth ``<company_id>:<session token>`` on every request except session creation
    (the :data:`connectors.http.Authorizer` of a Tripletex client)."""

    def __init__(self, company_id: int = 0) -> None:
        self.company_id = company_id
        self.token: str | None = None

    def header_value(self) -> str | None:
        """The Authorization header value for the current token (``None`` before a session)."""
        if self.token is None:
            return None
        pair = f"{self.company_id}:{self.token}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def __call__(self, path: str) -> str | None:
        """The session credentials for a request to ``path`` (none to create a session)."""
        return None if path.endswith(CREATE_PATH) else self.header_value()


class TripletexSession:
    """Owns the session token of one Tripletex client: creates, renews, never leaks it."""

    def __init__(
        self,
        api: ApiClient,
        auth: SessionAuth,
        consumer_token: str,
        employee_token: str,
        *,
        now: Clock = utc_now,
    ) -> None:
        self._api = api
        self._auth = auth
        self._consumer_token = consumer_token
        self._employee_token = employee_token
        self.now = now
        self._expires_at: dt.datetime | None = None
        self._lock = asyncio.Lock()
        self.generation = 0  # bumped on every new token; lets concurrent 401s renew once

    def __repr__(self) -> str:
        return f"TripletexSession(generation={self.generation}, expires_at={self._expires_at})"

    @property
    def needs_renewal(self) -> bool:
        """True before the first session and shortly before the current one expires."""
        if self._auth.token is None or self._expires_at is None:
            return True
        return aware(self.now()) >= self._expires_at - RENEW_MARGIN

    async def ensure(self) -> None:
        """Have a valid session token (create or renew one if needed)."""
        if self.needs_renewal:
            await self.renew(self.generation)

    async def renew(self, seen_generation: int) -> None:
        """Create a new session unless another task already did since ``seen_generation``."""
        async with self._lock:
            if self.generation != seen_generation and not self.needs_renewal:
                return
            await self._create()

    async def _create(self) -> None:
        soon = aware(self.now()) + MIN_LIFETIME
        expiration = oslo_today(lambda: soon) + dt.timedelta(days=1)
        body = {
            "consumerToken": self._consumer_token,
            "employeeToken": self._employee_token,
            "expirationDate": expiration.isoformat(),
        }
        try:
            response = await self._api.request(
                "POST", CREATE_PATH, json=body, idempotent=True, endpoint="POST /token/session"
            )
        except (TransientError, RateLimitedError):
            raise
        except ApiError as error:
            raise TripletexAuthenticationError(
                f"Tripletex refused the API tokens: {error.message}",
                status=error.status,
                code=error.code,
                request_id=error.request_id,
                details=error.details,
                field_errors=error.field_errors,
                method="POST",
                path=CREATE_PATH,
            ) from None
        token = str(response.json()["value"]["token"])
        self._api.add_secret(token)
        self._auth.token = token
        self._api.add_secret(self._auth.header_value())
        self._expires_at = oslo_midnight(expiration)
        self.generation += 1
