"""The Tripletex API v2 connector: sessions, paging, batch writes, mapping to canonical records."""

from connectors.tripletex.client import TripletexClient, WhoAmI
from connectors.tripletex.errors import (
    TripletexAuthenticationError,
    TripletexConflictError,
    TripletexError,
    TripletexStaleVersionError,
    TripletexValidationError,
)

__all__ = [
    "TripletexAuthenticationError",
    "TripletexClient",
    "TripletexConflictError",
    "TripletexError",
    "TripletexStaleVersionError",
    "TripletexValidationError",
    "WhoAmI",
]
