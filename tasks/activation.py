"""Activation checks: is the pasted Tripletex key (and the Svenn key) usable, and if not, why.

Every refusal is one sentence a tenant can act on; nothing is stored until every check passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.settings import Settings
from connectors.errors import (
    ApiError,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    TransientError,
)
from store.integrations import ensure_integration, transition
from store.models import Integration, IntegrationStatus
from store.tenancy import Parties, TenancyRefused, bind_parties, check_tenancy, parties_of
from store.token_cipher import TokenCipher
from tasks.tenant import state_store, svenn_client, tripletex_client

REACTIVATABLE = frozenset(
    {
        IntegrationStatus.OFF,
        IntegrationStatus.REVIEW,
        IntegrationStatus.REJECTED,
        IntegrationStatus.DISABLED,
    }
)
AREA_NAMES = {
    "customers": "customers (Kunder)",
    "employees": "employees (Ansatte)",
    "projects": "projects (Prosjekt)",
    "activities": "activities (Aktiviteter)",
    "timesheet": "timesheet entries (Timeføring)",
}


class ActivationRefused(Exception):
    """The credentials cannot be used; the message says what the tenant should do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ValidatedAccess:
    """What activation learned about the tenant's accounts."""

    company_id: int
    company_name: str | None
    employee_id: int
    svenn_tenant_id: str
    svenn_tenant_name: str

    @property
    def parties(self) -> Parties:
        """The Tripletex company and Svenn tenant the keys belong to."""
        return Parties(
            self.company_id, self.company_name, self.svenn_tenant_id, self.svenn_tenant_name
        )


def _refusal_for_session(
    error: ApiError, token: SecretStr, settings: Settings
) -> ActivationRefused:
    is_test_key = token.get_secret_value().startswith("test-")
    if is_test_key and settings.tripletex_environment == "production":
        return ActivationRefused(
            "TEST_KEY_IN_PRODUCTION",
            "This is a key from Tripletex's test environment (it starts with 'test-'), but the "
            "integration talks to production Tripletex. Create the key in your production "
            "Tripletex account under 'API-tilgang'.",
        )
    if not is_test_key and settings.tripletex_environment == "test":
        return ActivationRefused(
            "PRODUCTION_KEY_IN_TEST",
            "This is a production Tripletex key, but the integration talks to Tripletex's test "
            "environment. Use a key created in the test environment.",
        )
    return ActivationRefused(
        "KEY_INVALID",
        "Tripletex did not accept the key. Check that you copied the whole employee token from "
        f"'API-tilgang' and that it has not been deleted (Tripletex said: {error.message}).",
    )


TRIPLETEX_UNAVAILABLE = (
    "Tripletex is unavailable just now ({reason}); nothing was stored, try again in a few minutes."
)


def _unavailable(error: ApiError) -> ActivationRefused:
    return ActivationRefused(
        "TRIPLETEX_UNAVAILABLE", TRIPLETEX_UNAVAILABLE.format(reason=error.message)
    )


async def check_tripletex(settings: Settings, token: SecretStr) -> tuple[int, str | None, int]:
    """Create a session, ask whoAmI and probe read access; (company id, name, employee id).

    Only a clear 401/403 counts against the key; 5xx, 429 and dropped connections are retried
    by the HTTP policy and, if they persist, reported as Tripletex being unavailable.
    """
    async with tripletex_client(settings, token) as tripletex:
        try:
            me = await tripletex.who_am_i()
        except (TransientError, RateLimitedError) as error:
            raise _unavailable(error) from None
        except ApiError as error:
            raise _refusal_for_session(error, token, settings) from None
        try:
            access = await tripletex.probe_access()
        except ApiError as error:  # not a 401/403: says nothing about the key
            raise _unavailable(error) from None
    missing = [AREA_NAMES.get(area, area) for area, problem in access.items() if problem]
    if missing:
        raise ActivationRefused(
            "KEY_LACKS_ENTITLEMENTS",
            "The key cannot read " + ", ".join(missing) + ". Create a new key in Tripletex under "
            "'API-tilgang' with 'Alle tilganger' ticked, and paste that one.",
        )
    return me.company_id, me.company_name, me.employee_id


async def check_svenn(settings: Settings, api_key: SecretStr) -> tuple[str, str]:
    """Check the Svenn API key; (tenant id, tenant name)."""
    async with svenn_client(settings, api_key) as svenn:
        try:
            tenant = await svenn.me()
        except (AuthenticationError, PermissionDeniedError):
            raise ActivationRefused(
                "SVENN_KEY_INVALID", "Svenn did not accept the Svenn API key for this tenant."
            ) from None
        except ApiError as error:
            raise ActivationRefused(
                "SVENN_UNAVAILABLE", f"Svenn could not be reached just now ({error.message})."
            ) from None
    return tenant.id, tenant.name


@dataclass(frozen=True)
class Refusal:
    """Why activation was refused: a stable code and a sentence the tenant can act on."""

    code: str
    message: str

    @classmethod
    def of(cls, error: ActivationRefused | TenancyRefused) -> Refusal:
        """The refusal an :class:`ActivationRefused` or :class:`TenancyRefused` carries."""
        return cls(error.code, str(error))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


async def validate_keys(
    settings: Settings, token: SecretStr, svenn_api_key: SecretStr
) -> ValidatedAccess | Refusal:
    """Check both keys before anything is stored; a refusal is an answer, not a crash."""
    try:
        company_id, company_name, employee_id = await check_tripletex(settings, token)
        svenn_id, svenn_name = await check_svenn(settings, svenn_api_key)
    except ActivationRefused as refused:
        return Refusal.of(refused)
    return ValidatedAccess(company_id, company_name, employee_id, svenn_id, svenn_name)


def store_keys(
    settings: Settings,
    tenant: str,
    token: SecretStr,
    svenn_api_key: SecretStr,
    access: ValidatedAccess,
    by: str | None = None,
) -> Refusal | None:
    """Store the validated keys encrypted and put the integration in review (never active);
    an integration that was approved and turned off goes to ``syncing`` instead (turned on
    again: a reconciliation runs before it is active), if the keys open the same accounts.

    Refused, with nothing stored, when the keys belong to another Svenn tenant than the
    integration's, or to a company or tenant that another integration holds.
    """
    store = state_store(settings)
    try:
        with store.sessions.begin() as session:
            return _store_keys(session, store.cipher, tenant, token, svenn_api_key, access, by)
    except TenancyRefused as refused:
        return Refusal.of(refused)
    except IntegrityError:  # another activation took the company or tenant a moment ago
        with store.sessions() as session:
            try:
                check_tenancy(session, tenant, access.parties)
            except TenancyRefused as refused:
                return Refusal.of(refused)
        raise


def _store_keys(
    session: Session,
    cipher: TokenCipher,
    tenant: str,
    token: SecretStr,
    svenn_api_key: SecretStr,
    access: ValidatedAccess,
    by: str | None,
) -> Refusal | None:
    integration = ensure_integration(session, tenant)
    current = IntegrationStatus(integration.status)
    bound = parties_of(integration)
    turning_on = current is IntegrationStatus.DISABLED and bound is not None
    if turning_on and not same_accounts(integration, access.parties):
        return Refusal(
            "NOT_THE_SAME_ACCOUNTS",
            f"The integration {tenant} was approved for {bound.describe() if bound else '?'}, "
            f"but these keys open {access.parties.describe()}: turn it on again with the keys "
            "of the same Tripletex company and Svenn tenant.",
        )
    if current not in REACTIVATABLE:
        return Refusal(
            "ALREADY_ACTIVATED",
            f"The integration for {tenant} is {current.value}; disable it before pasting a new "
            "key.",
        )
    check_tenancy(session, tenant, access.parties)
    integration.employee_token_encrypted = cipher.encrypt(token)
    integration.svenn_api_key_encrypted = cipher.encrypt(svenn_api_key)
    bind_parties(integration, access.parties)
    if turning_on:  # approved before, same accounts: no new review, a reconciliation first
        transition(
            session,
            tenant,
            IntegrationStatus.SYNCING,
            actor=by or "activation",
            reason=f"turned on again for {access.parties.describe()}; reconciling first",
        )
    elif current is not IntegrationStatus.REVIEW:  # a new key while in review: stays in review
        transition(
            session,
            tenant,
            IntegrationStatus.REVIEW,
            actor=by or "activation",
            reason=f"keys validated for {access.parties.describe()}",
        )
    session.flush()
    return None


def same_accounts(integration: Integration, parties: Parties) -> bool:
    """Whether ``parties`` are the Tripletex company and Svenn tenant the integration is for."""
    return (integration.tripletex_company_id, integration.svenn_tenant_id) == (
        parties.tripletex_company_id,
        parties.svenn_tenant_id,
    )


async def validate_and_store(
    settings: Settings,
    tenant: str,
    token: SecretStr,
    svenn_api_key: SecretStr,
    by: str | None = None,
) -> ValidatedAccess | Refusal:
    """Validate both keys, then store them encrypted (review, or syncing when turned on
    again); or the refusal, nothing stored."""
    access = await validate_keys(settings, token, svenn_api_key)
    if isinstance(access, Refusal):
        return access
    return store_keys(settings, tenant, token, svenn_api_key, access, by) or access


@task(name="take-keys-from-secret-blocks", cache_policy=NO_CACHE, retries=0)
async def take_keys_from_secret_blocks(
    settings: Settings, tenant: str, tripletex_token_block: str, svenn_key_block: str
) -> ValidatedAccess | Refusal:
    """The keys held in two Prefect Secret blocks (given by name), validated and stored."""
    from prefect.blocks.system import Secret

    token_block: Secret[str] = await Secret.aload(tripletex_token_block)
    svenn_block: Secret[str] = await Secret.aload(svenn_key_block)
    token, svenn_api_key = SecretStr(token_block.get()), SecretStr(svenn_block.get())
    return await validate_and_store(settings, tenant, token, svenn_api_key)
