"""A record's fingerprint is the hash of one fixed text: fingerprints stored on links by any
version compare equal to the ones computed now, whichever JSON writer computes them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from sync.entities import Customer
from sync.records import fingerprint_of

SCALARS = st.one_of(
    st.text(),
    st.text(st.characters(max_codepoint=0x7F)),  # plain ASCII, DEL and controls included
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def defined(synced: dict[str, Any]) -> str:
    """The fingerprint as it is defined (and as every earlier version computed it)."""
    text = json.dumps(synced, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=8))
@example({"a": "del \x7f"})  # json escapes DEL, orjson does not
@example({"a": 1e16, "b": {"c": [1e-7]}})  # json writes 1e+16, orjson 1e16
@example({"a": float("nan")})  # json writes NaN, orjson null
@example({"a": 2**65})  # orjson refuses an integer past 64 bits
@example({"a": "Tromsø 😀"})
def test_the_fingerprint_is_the_hash_of_the_sorted_ascii_json(synced: dict[str, Any]) -> None:
    assert fingerprint_of(synced) == defined(synced)


def test_a_records_fingerprint_is_what_it_was() -> None:
    """Two fingerprints as links store them: one with "ø" (json writes ``\\u00f8``), one plain."""
    norwegian = Customer(
        id="7",
        version=2,
        name="Bjørnstad Bygg AS",
        email="post@bjornstad.no",
        organization_number="912345678",
    )
    plain = Customer(id="8", version=1, name="Plain Bygg AS", email="post@plain.no")
    assert norwegian.fingerprint() == "f26402bc74d35c5851bccf9fa7c75222"
    assert plain.fingerprint() == "01eb0dfd81209958dc552146fa4d5dac"
    assert norwegian.fingerprint() == defined(norwegian.synced_fields())
