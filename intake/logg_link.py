"""Signed, expiring links to a tenant's Logg page: the browser never holds the service token.

A link is ``/tenants/{tenant}/logg?sig=<expiry>.<mac>``: ``expiry`` is a Unix time and ``mac`` the
HMAC-SHA256 (key: ``SVENN_SYNC_LOGG_LINK_KEY``) of the tenant and the expiry, so the tenant and
the expiry are both inside what is signed: a link made for tenant A does not open B's page, and
a changed expiry or a changed character of the signature is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from enum import StrEnum
from urllib.parse import quote

from pydantic import SecretStr


class LinkCheck(StrEnum):
    """What a link's signature says."""

    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


REFUSALS: dict[LinkCheck, str] = {
    LinkCheck.EXPIRED: (
        "Lenken til Loggen er utløpt; åpne Loggen på nytt fra Svenn (Markedsplass → Tripletex)."
    ),
    LinkCheck.INVALID: (
        "Lenken til Loggen er ikke gyldig; åpne Loggen på nytt fra Svenn (Markedsplass → "
        "Tripletex)."
    ),
}


def _mac(key: SecretStr, tenant: str, expiry: int) -> str:
    message = f"logg\n{tenant}\n{expiry}".encode()
    return hmac.new(key.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def sign(key: SecretStr, tenant: str, expires_at: dt.datetime) -> str:
    """The ``sig`` value that opens ``tenant``'s Logg until ``expires_at``."""
    expiry = int(expires_at.timestamp())
    return f"{expiry}.{_mac(key, tenant, expiry)}"


def check(
    key: SecretStr, tenant: str, sig: str | None, now: dt.datetime | None = None
) -> LinkCheck:
    """Whether ``sig`` opens ``tenant``'s Logg now (an expired link is told apart)."""
    expiry_text, _, mac = (sig or "").partition(".")
    if not expiry_text.isdigit() or len(expiry_text) > 12:
        return LinkCheck.INVALID
    expiry = int(expiry_text)
    if not hmac.compare_digest(mac.encode(), _mac(key, tenant, expiry).encode()):
        return LinkCheck.INVALID
    now = now or dt.datetime.now(dt.UTC)
    return LinkCheck.VALID if now.timestamp() < expiry else LinkCheck.EXPIRED


def logg_path(key: SecretStr, tenant: str, valid_for: dt.timedelta) -> str:
    """The path (with its signature) of a link to ``tenant``'s Logg, valid for ``valid_for``."""
    expires_at = dt.datetime.now(dt.UTC) + valid_for
    return f"/tenants/{quote(tenant, safe='')}/logg?sig={sign(key, tenant, expires_at)}"
