"""The failed-record table of the Prefect UI: few columns, messages cut at a word to fit 1,400 px.

Prefect's table cells never wrap, so a row is as wide as its longest texts; `make screenshots`
measures the rendered table, this checks the rows that go into it (pure functions, no I/O).
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from sync.rules import MESSAGES, ReasonCode, message
from tasks.report import FAILURE_COLUMNS, MESSAGE_CHARS, failure_row, plan_failure_row, shorten

RECORD_CHARS = 32  # "employment tripletex:1234567" and the like
REASON_CHARS = 30  # the longest reason code
CONTEXT = {
    "name": "Markus Jacobsen Bygg og Anlegg AS",
    "email": "marte.andersen39@elektro-helland.no",
    "system": "Tripletex",
    "other": "Svenn",
    "number": "K-10041",
    "candidates": "cus_00001, cus_00002",
}


def rows_for_every_reason() -> list[dict[str, object]]:
    """One table row per reason code, with its real messages and long names filled in."""
    rows = []
    for number, code in enumerate(ReasonCode, start=1):
        _, norwegian = message(code, **CONTEXT)
        rows.append(
            failure_row(
                id=1000 + number,
                entity="employment",
                svenn_id=None,
                tripletex_id="1234567",
                reason_code=code.value,
                message_no=norwegian,
            )
        )
    return rows


def test_failed_record_rows_have_the_record_the_reason_and_the_norwegian_message_only():
    rows = rows_for_every_reason()
    assert len(rows) == len(MESSAGES)
    for row, code in zip(rows, ReasonCode, strict=True):
        assert tuple(row) == FAILURE_COLUMNS
        assert row["reason"] == code.value and len(code.value) <= REASON_CHARS
        assert len(str(row["record"])) <= RECORD_CHARS
        assert len(str(row["melding (norsk)"])) <= MESSAGE_CHARS
    # the message is the tenant's Norwegian one, not the English one
    assert rows[0]["melding (norsk)"] == shorten(
        message(ReasonCode(rows[0]["reason"]), **CONTEXT)[1]
    )


def test_every_message_is_cut_after_a_whole_word():
    for code in ReasonCode:
        for full in message(code, **CONTEXT):
            short = shorten(full)
            words = " ".join(full.split()).split(" ")
            kept = short.removesuffix("…").split(" ")
            # every word kept is a whole word of the message (the last may lose its punctuation)
            assert kept[:-1] == words[: len(kept) - 1], (full, short)
            last = words[len(kept) - 1]
            assert kept[-1] in (last, re.sub(r"[^\w'\"]+$", "", last)), (full, short)


def test_a_plan_failure_shows_its_id_its_reason_and_the_norwegian_message():
    english, norwegian = message(ReasonCode.CUSTOMER_INACTIVE, name="Ålesund Elektro DA")
    row = plan_failure_row(
        {
            "entity": "customer",
            "svenn_id": None,
            "tripletex_id": "16",
            "reason_code": "CUSTOMER_INACTIVE",
            "message_en": english,
            "message_no": norwegian,
            "target_error": None,
        }
    )
    assert row == {
        "record": "customer tripletex:16",
        "reason": "CUSTOMER_INACTIVE",
        "melding (norsk)": shorten(norwegian),
    }
    assert row["melding (norsk)"] == "Kunden «Ålesund Elektro DA» er…"
    assert english not in row.values()


WORDS = st.text(alphabet=st.characters(categories=("L", "N", "P")), min_size=1, max_size=60)


@given(words=st.lists(WORDS, min_size=1, max_size=30), limit=st.integers(8, 80))
def test_shorten_keeps_whole_words_within_the_limit(words, limit):
    text = " ".join(words)
    short = shorten(text, limit)
    assert len(short) <= limit
    if len(text) <= limit:
        assert short == text
        return
    assert short.endswith("…")
    kept = short.removesuffix("…").split(" ")
    if len(words[0]) >= limit:  # a first word longer than the cell: the one cut inside a word
        return
    assert kept[:-1] == words[: len(kept) - 1]
    assert words[len(kept) - 1].startswith(kept[-1]) and kept[-1]
