"""Activation checks: is the pasted Tripletex key (and the Svenn key) usable, and if not, why.

Every refusal is one sentence a tenant can act on; nothing is stored until every check passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from config.settings import Settings
from connectors.errors import ApiError, AuthenticationError, RateLimitedError, TransientError
from store.integrations import ensure_integration, transition
from store.models import IntegrationStatus
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


async def check_tripletex(settings: Settings, token: SecretStr) -> tuple[int, str | None, int]:
    """Create a session, ask whoAmI and probe read access; (company id, name, employee id)."""
    async with tripletex_client(settings, token) as tx:
        try:
            me = await tx.who_am_i()
        except (TransientError, RateLimitedError) as error:
            raise ActivationRefused(
                "TRIPLETEX_UNAVAILABLE",
                f"Tripletex could not be reached just now ({error.message}); try again shortly.",
            ) from None
        except (AuthenticationError, ApiError) as error:
            raise _refusal_for_session(error, token, settings) from None
        access = await tx.probe_access()
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
    async with svenn_client(settings, api_key) as sv:
        try:
            tenant = await sv.me()
        except AuthenticationError:
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
    def of(cls, error: ActivationRefused) -> Refusal:
        """The refusal an :class:`ActivationRefused` carries."""
        return cls(error.code, str(error))


@task(name="validate-credentials", cache_policy=NO_CACHE, retries=0)
async def validate_credentials(
    settings: Settings, token: SecretStr, svenn_api_key: SecretStr
) -> ValidatedAccess | Refusal:
    """Check both keys before anything is stored; a refusal is an answer, not a crash."""
    try:
        company_id, company_name, employee_id = await check_tripletex(settings, token)
        svenn_id, svenn_name = await check_svenn(settings, svenn_api_key)
    except ActivationRefused as refused:
        return Refusal.of(refused)
    return ValidatedAccess(company_id, company_name, employee_id, svenn_id, svenn_name)


@task(name="store-credentials-and-request-review", cache_policy=NO_CACHE)
def request_review(
    settings: Settings,
    tenant: str,
    token: SecretStr,
    svenn_api_key: SecretStr,
    access: ValidatedAccess,
    flow_run_id: str | None,
) -> Refusal | None:
    """Store the keys encrypted and move the integration to review (never straight to active)."""
    store = state_store(settings)
    with store.sessions.begin() as session:
        integration = ensure_integration(session, tenant)
        current = IntegrationStatus(integration.status)
        if current not in REACTIVATABLE:
            return Refusal(
                "ALREADY_ACTIVATED",
                f"The integration for {tenant} is {current.value}; disable it before pasting a "
                "new key.",
            )
        integration.employee_token_encrypted = store.cipher.encrypt(token)
        integration.svenn_api_key_encrypted = store.cipher.encrypt(svenn_api_key)
        integration.tripletex_company_id = access.company_id
        integration.tripletex_company_name = access.company_name
        if current is IntegrationStatus.REVIEW:  # a new key while waiting: still in review
            return None
        transition(
            session,
            tenant,
            IntegrationStatus.REVIEW,
            actor="activation",
            reason=f"keys validated for Tripletex company {access.company_id}",
            flow_run_id=flow_run_id,
        )
    return None
