"""Secret-looking keys are never stored or shown: one rule for payloads and messages."""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY = re.compile(r"token|secret|password|passwd|api[-_]?key|authorization|iban|bank", re.I)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
