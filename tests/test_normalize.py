"""Normalisation: scalar functions and their pandas twins agree and handle Norwegian input."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import normalize
from sync import normalize_frames as frames


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("974760673", "974760673"),
        ("974 760 673", "974760673"),
        ("NO 974 760 673 MVA", "974760673"),
        ("NO974760673MVA", "974760673"),
        ("974.760.673", "974760673"),
        ("no 974760673 mva", "974760673"),
        ("974760674", None),  # wrong check digit
        ("97476067", None),
        ("9747606731", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_org_number_accepts_common_spellings_and_rejects_bad_checksums(raw, expected):
    assert normalize.org_number(raw) == expected


def test_check_digit_follows_mod11_weights_and_rejects_remainder_one():
    assert normalize.org_number_check_digit("97476067") == 3
    # first eight digits whose weighted sum leaves remainder 1 have no valid check digit
    remainder_one = next(
        f"{n:08d}"
        for n in range(10_000_000, 10_100_000)
        if sum(int(d) * w for d, w in zip(f"{n:08d}", normalize.ORG_NUMBER_WEIGHTS, strict=True))
        % 11
        == 1
    )
    assert normalize.org_number_check_digit(remainder_one) is None
    assert normalize.org_number_check_digit("1234") is None


def test_check_digit_zero_when_sum_divides_by_eleven():
    first8 = next(
        f"{n:08d}"
        for n in range(10_000_000, 10_100_000)
        if sum(int(d) * w for d, w in zip(f"{n:08d}", normalize.ORG_NUMBER_WEIGHTS, strict=True))
        % 11
        == 0
    )
    assert normalize.org_number_check_digit(first8) == 0
    assert normalize.is_valid_org_number(first8 + "0")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ola.Nordmann@Firma.NO ", "ola.nordmann@firma.no"),
        ("post@bygg-as.no", "post@bygg-as.no"),
        ("ola(at)firma.no", None),
        ("ola@firma", None),
        ("ola @ firma.no", None),
        ("", None),
        (None, None),
    ],
)
def test_email_is_trimmed_lowercased_and_validated(raw, expected):
    assert normalize.email(raw) == expected


@pytest.mark.parametrize(
    "variant",
    [
        "Hansen Bygg AS",
        "HANSEN BYGG A/S",
        "hansen bygg a.s.",
        "Hansen  Bygg   AS ",
        "Hansen, Bygg AS",
        "Hansen Bygg as",
        "Hansen Bygg A S",
    ],
)
def test_company_name_spellings_of_one_legal_form_compare_equal(variant):
    assert normalize.company_name(variant) == "hansen bygg as"
    assert normalize.company_stem(variant) == "hansen bygg"
    assert normalize.legal_form(variant) == "as"


def test_legal_form_is_part_of_the_name_but_may_be_left_out():
    assert normalize.company_name("Jon Mur ENK") != normalize.company_name("Jon Mur AS")
    assert normalize.company_stem("Jon Mur ENK") == normalize.company_stem("Jon Mur AS")
    assert not normalize.same_company_name("Jon Mur ENK", "Jon Mur AS")
    assert not normalize.same_company_name("Hansen Bygg ASA", "Hansen Bygg AS")
    assert normalize.same_company_name("Hansen Bygg", "HANSEN BYGG A/S")
    assert normalize.same_company_name("Jon Mur enk", "JON MUR ENK")
    assert normalize.legal_form("Hansen Bygg") is None
    assert normalize.legal_form("Bygg og Anlegg Vestland") is None


def test_company_name_unifies_ampersand_and_norwegian_letters():
    assert normalize.company_name("Berg & Sønn ANS") == normalize.company_name("Berg og Sønn ANS")
    assert normalize.company_stem("Berg & Sønn ANS") == normalize.company_stem("Berg og Sønn DA")
    assert normalize.company_name("Ødegård Rør") == "odegard ror"
    assert normalize.company_name("Blåbær Café AS") == "blabaer cafe as"
    assert normalize.company_name("Sæther") == normalize.company_name("Saether")
    assert normalize.company_name("Hansen Bygg") != normalize.company_name("Hansen Rør")


def test_person_name_drops_middle_names_and_folds_diacritics():
    assert normalize.person_name("Ola Johan", "Nordmann") == "ola nordmann"
    assert normalize.person_name("Bjørn", "Sæther") == normalize.person_name("Bjorn", "Saether")
    assert normalize.person_name("André", "van der Berg") == "andre berg"
    assert normalize.person_name("Kari", None) == "kari"
    assert normalize.person_name(None, None) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0150", "0150"), ("150", "0150"), ("N-5003", "5003"), (" 7010 ", "7010"), ("12", None),
     ("abcd", None), ("50031", None), (None, None)],
)  # fmt: skip
def test_postal_code_is_four_digits(raw, expected):
    assert normalize.postal_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+47 912 34 567", "+4791234567"), ("0047 91234567", "+4791234567"),
     ("91 23 45 67", "+4791234567"), ("4791234567", "+4791234567"),
     ("+46 70 123 45 67", "+46701234567"), ("123", None), (None, None)],
)  # fmt: skip
def test_phone_becomes_e164(raw, expected):
    assert normalize.phone(raw) == expected


SAMPLES = [
    "NO 974 760 673 MVA", "974760674", None, "Hansen Bygg A/S", " Ola.N@Firma.NO ",
    "Ødegård & Sønn", "Zoé Café", "150", "", "  ", "x@y.no", "Åsmund  Ærlend-Ås",
    "Jon Mur ENK", "Bygg a/s", "as", " AS",
]  # fmt: skip
texts = st.one_of(st.none(), st.text(max_size=30), st.sampled_from([s for s in SAMPLES if s]))


def _twins_agree_on(values):
    """``same(vectorised, scalar)``: asserts the twin gives each of ``values`` what the scalar
    rule gives it (NA read as None)."""
    series = pd.Series(values, dtype="object")

    def same(vectorised, scalar):
        got = [None if pd.isna(v) else v for v in vectorised(series).tolist()]
        assert got == [scalar(v) for v in values]

    return same


@given(st.lists(texts, max_size=20))
def test_series_twins_agree_with_scalar_functions(values):
    same = _twins_agree_on(values)

    same(frames.org_number_series, normalize.org_number)
    same(frames.email_series, normalize.email)
    same(frames.postal_code_series, normalize.postal_code)
    same(frames.text_series, normalize.text)
    same(frames.company_name_series, normalize.company_name)
    same(frames.company_stem_series, normalize.company_stem)
    same(frames.legal_form_series, normalize.legal_form)


@given(st.lists(st.tuples(texts, texts), max_size=20))
def test_person_name_series_agrees_with_scalar(pairs):
    first = pd.Series([p[0] for p in pairs], dtype="object")
    last = pd.Series([p[1] for p in pairs], dtype="object")
    got = frames.person_name_series(first, last).tolist()
    assert got == [normalize.person_name(f, la) for f, la in pairs]


@pytest.mark.parametrize("raw", ["12345678²", "²²²²²²²²²", "٩٢٣٤٥٦٧٨٩", "1234567²8"])
def test_digits_int_cannot_read_make_no_org_number_and_raise_nothing(raw):
    # "²".isdigit() is True but int("²") raises: such a value once stopped the whole plan
    assert normalize.org_number(raw) is None
    assert normalize.is_valid_org_number(normalize.org_number_digits(raw) or "") is False
    assert normalize.org_number_check_digit(raw[-8:]) is None
    found = frames.org_number_series(pd.Series([raw, "NO 974 760 673 MVA"])).tolist()
    assert pd.isna(found[0]) and found[1] == "974760673"


def test_a_customer_number_of_unreadable_digits_stays_text():
    from sync.entities.customer import Customer
    from sync.merge import comparable

    assert comparable("customer_number", "12²") == "12²"
    assert comparable("customer_number", " 12 ") == 12
    assert Customer(id="1", name="Kunde AS", customer_number="12²").customer_number == "12²"


def _valid_org_number(first8: str) -> str:
    check = normalize.org_number_check_digit(first8)
    return first8 + str(0 if check is None else check)


org_numbers = st.builds(
    lambda digits, spelling: spelling.format(_valid_org_number(digits)),
    st.text("0123456789", min_size=8, max_size=8),
    st.sampled_from(["{}", "NO {} MVA", "no{}mva", " {} ", "{}\n", "N O{}", "NO NO {}", "{}x"]),
)
# Digits of other scripts ("٣", "٠"): the scalar rule decides them.
odd_digits = st.text("0123456789٣٠ .-NOMVA", min_size=9, max_size=12)
# ASCII noise: every whitespace the pattern takes ("\x1c" to "\x1f" too), "NO" and "MVA" anywhere
# around and between the digits of a valid number
ascii_noise = st.builds(
    lambda digits, noise: "".join(
        a + b for a, b in zip(noise, [*_valid_org_number(digits), ""], strict=True)
    ),
    st.text("0123456789", min_size=8, max_size=8),
    st.lists(
        st.sampled_from(["", "", " ", "\t", "\x0b", "\x0c", "\r", "\x1c", "\x1f", ".", "-",
                         "NO", "no ", "MVA", " mva", "x"]),
        min_size=10,
        max_size=10,
    ),
)  # fmt: skip
name_parts = st.sampled_from(
    ["Hansen", "bygg", "A/S", "a.s.", "A S", "AS", "ASA", "enk", "&", "Sønn", "Zoé", "ΑΣ",
     "ﬁ", "İ", "\t", "\n", "  ", "-", "as.", "a /s", "Å", "a", "s", "da", "\u2028", "K"]
)  # fmt: skip
company_names = st.lists(name_parts, max_size=6).map(" ".join) | st.lists(name_parts).map("".join)


@given(st.lists(st.one_of(texts, org_numbers, odd_digits, ascii_noise, company_names), max_size=40))
def test_series_twins_agree_on_org_numbers_and_company_names(values):
    same = _twins_agree_on(values)

    same(frames.org_number_series, normalize.org_number)
    same(frames.email_series, normalize.email)
    same(frames.company_name_series, normalize.company_name)
    same(frames.company_stem_series, normalize.company_stem)
    same(frames.legal_form_series, normalize.legal_form)


customer_numbers = st.one_of(
    st.none(),
    st.integers(-(2**64), 2**64),
    st.integers(-5, 5),
    st.sampled_from([2**53, 2**53 + 1, -(2**53), -(2**53) - 1, 2**63 - 1, 2**63]),
)


# Free text a number field holds: plainly no number ("K-10005"), or perhaps one ("1e3", "inf")
number_texts = st.builds(
    lambda prefix, digits, suffix: f"{prefix}{digits}{suffix}",
    st.sampled_from(["K-", "k", "", " ", "Nr ", "1e", "in", "0x", "-", "+", "."]),
    st.integers(0, 2**65).map(str),
    st.sampled_from(["", " ", "f", "inity", ".0", "e3", "MVA", "Ø", "_1", "nan", "\n"]),
)


@given(
    st.lists(customer_numbers, max_size=20)
    | st.lists(st.one_of(customer_numbers, number_texts), max_size=20)
    | st.lists(st.one_of(customer_numbers, texts, st.booleans(), st.floats()), max_size=20)
)
def test_customer_numbers_of_plain_ints_read_as_the_whole_column_would(values):
    from sync.keys import customer_number, customer_numbers_as_a_whole

    raw = pd.Series(values, dtype="object")
    got = customer_number(pd.DataFrame({"customer_number": raw}))
    expected = customer_numbers_as_a_whole(raw)
    assert got.dtype == expected.dtype
    assert [None if pd.isna(v) else v for v in got.tolist()] == [
        None if pd.isna(v) else v for v in expected.tolist()
    ]
