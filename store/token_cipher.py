"""Employee tokens and API keys encrypted at rest with Fernet (``cryptography``).

The plaintext only ever lives in a :class:`pydantic.SecretStr`, whose ``repr`` and ``str`` are
masked, so it cannot leak into a log line, an exception or an artifact by accident.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

KEY_VARIABLE = "SVENN_SYNC_ENCRYPTION_KEY"


class TokenCipherError(RuntimeError):
    """The encryption key is malformed, or a stored token was encrypted with another key."""


class TokenCipher:
    """Encrypts and decrypts secrets with one Fernet key."""

    def __init__(self, key: SecretStr) -> None:
        try:
            self._fernet = Fernet(key.get_secret_value().encode())
        except (ValueError, TypeError):
            raise TokenCipherError(
                f"{KEY_VARIABLE} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from None

    def __repr__(self) -> str:
        return "TokenCipher(key=**********)"

    def encrypt(self, secret: SecretStr) -> str:
        """The secret, encrypted, as text safe to store."""
        return self._fernet.encrypt(secret.get_secret_value().encode()).decode()

    def decrypt(self, stored: str) -> SecretStr:
        """The stored secret, decrypted; a clear error when the key does not fit."""
        try:
            return SecretStr(self._fernet.decrypt(stored.encode()).decode())
        except InvalidToken:
            raise TokenCipherError(
                f"a stored token cannot be decrypted: {KEY_VARIABLE} differs from the key it was "
                "encrypted with (restore the old key, or re-activate the integration)"
            ) from None
