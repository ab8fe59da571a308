"""Secret-looking keys are never stored or shown: one rule for payloads and messages."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SECRET_KEY = re.compile(r"token|secret|password|passwd|api[-_]?key|authorization|iban|bank", re.I)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if _secret(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _secret(key: Any) -> bool:
    # A payload's keys are the same few field names row after row: each is judged once.
    return _secret_text(key) if type(key) is str else bool(SECRET_KEY.search(str(key)))


@lru_cache(maxsize=4096)
def _secret_text(key: str) -> bool:
    return bool(SECRET_KEY.search(key))
