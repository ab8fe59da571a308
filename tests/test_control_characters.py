"""Control characters (NUL, ESC, other C0/C1, bidi overrides) never reach the other system."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from connectors.svenn.mapping import customer_from_svenn, hours_to_svenn, record_to_svenn
from connectors.tripletex.mapping import customer_to_tripletex, employee_from_tripletex
from sync.entities import Customer, HourEntry
from sync.normalize import without_controls

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_controls(text: str, allowed: str = "") -> bool:
    return any((unicodedata.category(c) == "Cc" or c in BIDI) and c not in allowed for c in text)


@given(st.text())
def test_single_line_text_keeps_no_control_character(raw: str) -> None:
    clean = without_controls(raw)
    assert not has_controls(clean)
    assert without_controls(clean) == clean


@given(st.text())
def test_multiline_text_keeps_only_tabs_and_newlines(raw: str) -> None:
    clean = without_controls(raw, multiline=True)
    assert not has_controls(clean, allowed="\t\n")
    assert without_controls(clean, multiline=True) == clean


@given(st.text(st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_ordinary_text_is_left_alone(raw: str) -> None:
    assert without_controls(raw) == raw == without_controls(raw, multiline=True)


def test_names_from_either_side_are_cleaned_before_anything_is_written() -> None:
    svenn = customer_from_svenn({"id": "c-1", "name": "Fjord\x00 Bygg\x1b[2J AS\u202e"})
    assert svenn.name == "Fjord Bygg[2J AS"
    assert not has_controls(json.dumps(customer_to_tripletex(svenn), ensure_ascii=False))
    tripletex = employee_from_tripletex({"id": 7, "firstName": "Ola\tKari", "lastName": "N\x85"})
    assert (tripletex.first_name, tripletex.last_name) == ("Ola Kari", "N")
    record = Customer(name="A\x07B", postal_address={"city": "Os\x9blo"})
    assert not has_controls(json.dumps(record_to_svenn(record), ensure_ascii=False))


def test_an_hours_comment_keeps_its_lines() -> None:
    entry = HourEntry(employee_id="e", date=dt.date(2024, 1, 2), hours=1, comment="a\r\nb\tc\x1b")
    assert hours_to_svenn(entry)["comment"] == "a\nb\tc"


def test_no_printable_character_is_one_that_cleaning_removes_or_replaces() -> None:
    # without_controls returns text whose characters are all printable as it is, unsearched.
    from sync import normalize

    printable = "".join(c for c in map(chr, range(0x110000)) if c.isprintable())
    assert normalize._CONTROLS.search(printable) is None
    assert normalize._LINE_BREAKS.search(printable) is None
