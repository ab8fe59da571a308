"""The tenant's words (sync/tenant_text.py), how a failed record is found (sync/record_label.py)
and the Logg page's signed links (intake/logg_link.py): plain data, no I/O."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest
from pydantic import SecretStr

from intake.logg_link import LinkCheck, check, sign
from sync.record_label import label_record, search_form
from sync.rules import MESSAGES, ReasonCode
from sync.tenant_text import REASON_TEXT, error_sentence, push_text, reason_text, status_text

CODES = {code.value for code in ReasonCode}
KEY = SecretStr("a-key-of-ours")
NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", list(ReasonCode))
def test_no_norwegian_text_names_a_reason_code(code):
    _, norwegian = MESSAGES[code]
    filled = norwegian.format(**dict.fromkeys(_placeholders(norwegian), "x"))
    text = reason_text(code.value)
    for sentence in (filled, text.title, text.what_to_do):
        assert not [c for c in CODES if c in sentence], sentence


def test_every_reason_has_a_title_and_what_to_do_of_its_own():
    assert set(REASON_TEXT) == set(ReasonCode)
    assert reason_text("SOMETHING_NEW").what_to_do  # an unknown code still says what to do


def test_status_texts_are_the_ones_svenn_shows():
    assert status_text("review") == "Gjennomgang"
    assert status_text("active") == "Aktiv"
    assert status_text("rejected") == "Avslått"
    assert status_text("disabled") == "Slått av"
    revoked = "Tripletex refused the stored key (HTTP 401): it was revoked or replaced; ..."
    assert status_text("failed", revoked).startswith("Feil – Tripletex-nøkkelen virker ikke")
    assert status_text("failed", None).startswith("Feil – ")


def test_the_last_error_is_one_norwegian_sentence_saying_what_to_do():
    assert error_sentence(None) is None
    for english in ("Svenn failed during the tick (HTTP 503); the next tick retries.", "boom"):
        sentence = error_sentence(english)
        assert sentence and sentence.endswith(".") and sentence.count(". ") == 0
        assert english not in sentence


def test_a_customer_is_found_by_part_of_its_name_number_email_or_org_number():
    payload = {
        "name": "Hansen Bygg AS",
        "customer_number": 1042,
        "email": "Post@HansenBygg.no",
        "organization_number": "923456789",
    }
    label = label_record("customer", payload, "sv-1", "77")
    assert (label.name, label.number) == ("Hansen Bygg AS", "1042")
    for typed in ("hansen", "BYGG", "1042", "posT@hansen", "923 456 789", "sv-1"):
        assert search_form(typed) in label.search_text, typed


def test_employees_and_hours_are_named_as_a_person_reads_them():
    employee = label_record("employee", {"first_name": "Kari", "last_name": "Nordmann"})
    assert employee.name == "Kari Nordmann" and "nordmann" in employee.search_text
    hours = label_record("hours", {"date": "2026-11-02", "entry": None}, "h-9")
    assert hours.name == "Timer 2026-11-02" and "h-9" in hours.search_text
    assert label_record("project", None).name is None


def test_a_signed_link_opens_only_its_tenant_until_it_expires():
    sig = sign(KEY, "t-a", NOW + dt.timedelta(minutes=5))
    assert re.fullmatch(r"\d+\.[0-9a-f]{64}", sig)
    assert check(KEY, "t-a", sig, NOW) is LinkCheck.VALID
    assert check(KEY, "t-b", sig, NOW) is LinkCheck.INVALID
    assert check(SecretStr("another-key"), "t-a", sig, NOW) is LinkCheck.INVALID
    assert check(KEY, "t-a", sig, NOW + dt.timedelta(minutes=6)) is LinkCheck.EXPIRED


@pytest.mark.parametrize(
    "altered",
    [None, "", "abc", "1.2", lambda s: s[:-1] + ("0" if s[-1] != "0" else "1"),
     lambda s: str(int(s.split(".")[0]) + 3600) + "." + s.split(".")[1]],
)  # fmt: skip
def test_an_altered_or_missing_signature_is_refused(altered):
    sig = sign(KEY, "t-a", NOW + dt.timedelta(minutes=5))
    tampered = altered(sig) if callable(altered) else altered
    assert check(KEY, "t-a", tampered, NOW) is LinkCheck.INVALID


@pytest.mark.parametrize(
    ("status", "push_status", "note", "mode", "reason"),
    [
        (
            "active",
            "healthy",
            "Tripletex webhooks are subscribed; …, every 60 s.",
            "push",
            "SUBSCRIBED",
        ),
        ("active", None, None, "polling", "NOT_YET"),
        ("active", "polling", "No Tripletex key is stored.", "polling", "NO_KEY"),
        (
            "active",
            "polling",
            "Subscribing to Tripletex webhooks failed (Tripletex answered 500 once): changes "
            "are found by polling every 5 s.",
            "polling",
            "SUBSCRIBE_FAILED",
        ),
        ("review", None, None, "off", "NOT_ACTIVE"),
        (
            "disabled",
            "polling",
            "Its Tripletex webhooks could not be deleted (no answer); deliveries are refused "
            "while it is off.",
            "off",
            "TURNED_OFF",
        ),
    ],
)
def test_push_text_says_how_tripletex_changes_arrive_in_norwegian(
    status, push_status, note, mode, reason
):
    text = push_text(status, push_status, note)
    assert (text.mode, text.reason) == (mode, reason)
    assert text.text.endswith(".")  # one sentence
    assert note is None or note not in text.text  # the operator's English stays theirs
