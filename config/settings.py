"""One typed settings object, read from the environment (prefix ``SVENN_SYNC_``).

Defaults are safe for the embedded demo: a SQLite file under ``./data``, both sandboxes on
localhost. A needed setting that is missing or malformed is reported as one clear line naming
the variable (see :func:`load_settings`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SVENN_SYNC_"
DEFAULT_DATA_DIR = Path("data")
# A fixed key for the embedded demo only; production sets SVENN_SYNC_ENCRYPTION_KEY.
DEMO_ENCRYPTION_KEY = "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="
# Signs the tenant's Logg links in the embedded demo only; production sets
# SVENN_SYNC_LOGG_LINK_KEY (any long random string).
DEMO_LOGG_LINK_KEY = "demo-only-logg-link-key-do-not-use-in-production"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the environment variable."""


class Settings(BaseSettings):
    """Everything the pipeline reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices(f"{ENV_PREFIX}DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the state store; default: SQLite file in data_dir.",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema for the store's tables (default: public)."
    )
    tripletex_base_url: str = "http://127.0.0.1:8701/v2"
    tripletex_environment: Literal["production", "test"] = "production"
    tripletex_consumer_token: SecretStr = SecretStr("sandbox-consumer-token")
    svenn_base_url: str = "http://127.0.0.1:8702/api/v1"
    encryption_key: SecretStr = SecretStr(DEMO_ENCRYPTION_KEY)
    realtime_poll_seconds: float = Field(default=5.0, gt=0)
    # Push (issue 22): the public base URL of the intake, which Tripletex delivers webhook
    # events to (`<base>/webhooks/tripletex/<tenant>`); unset, no subscriptions are made and
    # polling alone finds changes. While a tenant's subscriptions are healthy, its Tripletex
    # checksum poll runs this seldom (Svenn's feed keeps realtime_poll_seconds).
    webhook_base_url: str | None = None
    realtime_fallback_poll_seconds: float = Field(default=60.0, gt=0)
    approval_timeout_seconds: int = Field(default=24 * 3600, gt=0)
    # A run that shows no sign of life for this long (killed, machine lost) may be taken over.
    sync_lease_seconds: float = Field(default=120.0, gt=0)
    max_concurrent_tenants: int = Field(default=8, gt=0)
    # Hours export: entries per POST/PUT /timesheet/entry/list (the largest batch Tripletex is
    # taken to accept, see sandboxes/tripletex/README.md), and the activity used for hours
    # whose Svenn task has no same-named activity on the project (None: the first general one).
    hours_batch_size: int = Field(default=1000, gt=0, le=1000)
    hours_standard_activity: str | None = None
    # Security and tenancy (issue 13): the activation run waiting for a decision shows a sign
    # of life this often; `approve` takes three missed beats as "its process is gone".
    activation_heartbeat_seconds: float = Field(default=10.0, gt=0)
    # The bearer token the HTTP key intake demands (`svenn-sync intake` refuses to start
    # without one).
    intake_token: SecretStr | None = None
    # The tenant's Logg page (issue 20): the HMAC key its signed links are made with, and how
    # long a link opens the page after it was made.
    logg_link_key: SecretStr = SecretStr(DEMO_LOGG_LINK_KEY)
    logg_link_seconds: int = Field(default=3600, gt=0)
    # Alerts (issue 20): an active integration with no successful tick for this long is
    # lagging; approved hours held back for this long are reported; the Prefect notification
    # block (by name) that `svenn-sync prefect setup` makes the alert automations send through.
    alert_lag_seconds: float = Field(default=900.0, gt=0)
    alert_hours_held_seconds: float = Field(default=24 * 3600.0, gt=0)
    alert_block: str | None = None

    @field_validator("tripletex_base_url", "svenn_base_url", "webhook_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'state.db').resolve()}"


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    return f"{ENV_PREFIX}{field.upper()}: {first['msg']}"


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Read the settings once; raise :class:`SettingsError` naming the bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
