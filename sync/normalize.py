"""Normalisation of the values we match on: org numbers, e-mails, names, postcodes, phones.

Pure functions; their pandas ``Series`` twins, for matching at speed, are in
:mod:`sync.normalize_frames` (same answer for the same input: the tests hold them to that).
Missing or malformed input normalises to ``None`` (scalar) or ``NA`` (series), and a missing key
never matches anything.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from operator import mul

ORG_NUMBER_WEIGHTS: tuple[int, ...] = (3, 2, 7, 6, 5, 4, 3, 2)
_WEIGHTED_ZEROS = ord("0") * sum(ORG_NUMBER_WEIGHTS)

# Letters that NFKD does not decompose, folded the Norwegian way: "Sæther" == "Saether".
_FOLD_LETTERS: dict[str, str | int | None] = {
    "æ": "ae", "ø": "o", "å": "a", "ð": "d", "þ": "th", "ß": "ss",
    **{c: "a" for c in "àáâãäā"}, **{c: "e" for c in "èéêëē"}, **{c: "i" for c in "ìíîïī"},
    **{c: "o" for c in "òóôõöō"}, **{c: "u" for c in "ùúûüū"}, "ç": "c", "ñ": "n", "ý": "y",
}  # fmt: skip
_FOLD = str.maketrans(_FOLD_LETTERS)
_COMBINING = re.compile(r"[\u0300-\u036f]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_NAME = re.compile(r"[^0-9a-z\- ]+")
_SPACES = re.compile(r"\s+")
# "A/S", "A.S.", "A S" and "a/s" are all the same legal form, spelt differently.
_AS_SPELLINGS = re.compile(r"\ba\s*[/.]\s*s\b\.?|\ba\s+s$")
# A trailing legal form: part of who the company is ("Jon Mur ENK" and "Jon Mur AS" are two
# legal persons), but often left out ("Hansen Bygg" may well be "Hansen Bygg AS").
LEGAL_FORMS: tuple[str, ...] = ("as", "asa", "ans", "da", "ba", "sa", "nuf", "enk")
_LEGAL_SUFFIX = re.compile(r"\s+(?:" + "|".join(LEGAL_FORMS) + r")$")
_ORG_NOISE = re.compile(r"^\s*NO|MVA\s*$|[\s.\-]", flags=re.IGNORECASE)
_EMAIL = re.compile(
    r"^[a-z0-9._%+\-']+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*\.[a-z]{2,}$"
)
_POSTCODE_NOISE = re.compile(r"^\s*(?:NO-|N-)?|\s+$", flags=re.IGNORECASE)
# C0 and C1 control characters, DEL, and the bidi overrides that reorder what a reader sees.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]+")


# The scalar normalisers are pure and called on the same names again and again (each key, both
# sides, the duplicate check): memoised, the matching of 100k records normalises each name once.
cache_names = lru_cache(maxsize=1 << 18)


def without_controls(raw: str, *, multiline: bool = False) -> str:
    """``raw`` without control characters: never copied to the other system.

    Single-line fields (names, numbers, e-mails...) turn tabs and line breaks into one space;
    ``multiline`` fields (comments) keep tabs and newlines, with CR LF and CR read as LF.
    """
    if raw.isprintable():  # most text: every character either pattern matches is unprintable
        return raw
    if not multiline:
        return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", raw))
    return _CONTROLS.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))


def ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more of 0-9 only. ``str.isdigit`` alone also takes "²" and
    other digits ``int`` cannot read, and a record holding one must not stop a run."""
    return text.isascii() and text.isdigit()


def org_number_check_digit(first8: str) -> int | None:
    """Mod-11 check digit for the first eight digits, or None when no valid one exists."""
    if len(first8) != 8 or not ascii_digits(first8):
        return None
    # ASCII digits: each byte less ord("0") is the digit (a C-level map, no step per digit)
    remainder = (sum(map(mul, first8.encode(), ORG_NUMBER_WEIGHTS)) - _WEIGHTED_ZEROS) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


def is_valid_org_number(value: str) -> bool:
    """True when ``value`` is exactly nine digits with a correct mod-11 check digit."""
    if len(value) != 9 or not ascii_digits(value):
        return False
    return org_number_check_digit(value[:8]) == int(value[8])


def org_number_digits(raw: str | None) -> str | None:
    """The org number without formatting ("NO 923 456 789 MVA" → "923456789"), valid or not."""
    if raw is None:
        return None
    digits = _ORG_NOISE.sub("", str(raw))
    return digits or None


@cache_names
def org_number(raw: str | None) -> str | None:
    """Nine checksum-valid digits from "NO 923 456 789 MVA", "923.456.789"... else None."""
    digits = org_number_digits(raw)
    return digits if digits is not None and is_valid_org_number(digits) else None


def email_form(raw: str) -> str:
    """The one form e-mail addresses are compared, keyed and written in: trimmed, lower-case.

    Every e-mail comparison goes through here (matching, merging, unique keys, cleaning);
    :func:`email` adds the check that the address is well-formed.
    """
    return raw.strip().lower()


@cache_names
def email(raw: str | None) -> str | None:
    """Trimmed, lower-case e-mail address, or None when it is not well-formed."""
    if raw is None:
        return None
    value = email_form(str(raw))
    return value if _EMAIL.match(value) else None


def fold(raw: str) -> str:
    """Case- and accent-folded text: casefold, æøå → ae/o/a, combining marks removed."""
    text = raw.casefold().translate(_FOLD)
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


@cache_names
def text(raw: str | None) -> str | None:
    """Folded text with punctuation removed and spaces collapsed (e.g. project names)."""
    if raw is None:
        return None
    value = _NON_ALNUM.sub(" ", fold(str(raw))).strip()
    return value or None


@cache_names
def company_name(raw: str | None) -> str:
    """Comparable company name: folded, "&" → "og", legal form kept in one spelling.

    "Hansen Bygg A/S", "HANSEN BYGG AS" and "hansen bygg as" all give "hansen bygg as";
    "Jon Mur ENK" and "Jon Mur AS" stay different. See :func:`company_stem` for the name
    without its legal form and :func:`legal_form` for the form alone.
    """
    if raw is None:
        return ""
    value = fold(str(raw)).replace("&", " og ")
    value = _AS_SPELLINGS.sub(" as ", value)
    return _NON_ALNUM.sub(" ", value).strip()


@cache_names
def company_stem(raw: str | None) -> str:
    """:func:`company_name` without a trailing legal form: "Hansen Bygg A/S" → "hansen bygg"."""
    return _LEGAL_SUFFIX.sub("", company_name(raw))


@cache_names
def legal_form(raw: str | None) -> str | None:
    """The trailing legal form in one spelling ("as", "enk", "ans"...), or None when absent."""
    name = company_name(raw)
    found = _LEGAL_SUFFIX.search(name)
    return found.group(0).strip() if found else None


def same_company_name(left: str | None, right: str | None) -> bool:
    """Equal stems and no contradicting legal form (a missing form contradicts nothing)."""
    if company_stem(left) != company_stem(right):
        return False
    forms = legal_form(left), legal_form(right)
    return None in forms or forms[0] == forms[1]


def person_name(first: str | None, last: str | None) -> str:
    """First given name + last surname, folded: "Ola Johan Nordmann" → "ola nordmann"."""
    given = _SPACES.sub(" ", _NON_NAME.sub(" ", fold(first or ""))).split()
    family = _SPACES.sub(" ", _NON_NAME.sub(" ", fold(last or ""))).split()
    return " ".join(part[-1] if i else part[0] for i, part in enumerate((given, family)) if part)


@cache_names
def postal_code(raw: str | None) -> str | None:
    """Four-digit Norwegian postcode ("150" from a spreadsheet becomes "0150"), else None."""
    if raw is None:
        return None
    value = _POSTCODE_NOISE.sub("", str(raw))
    if not value.isdigit() or len(value) > 4:
        return None
    return value.zfill(4) if len(value) >= 3 else None


def phone(raw: str | None) -> str | None:
    """E.164-style phone: "+47" and eight digits for Norwegian numbers, else None."""
    if raw is None:
        return None
    value = re.sub(r"[^\d+]", "", str(raw))
    if value.startswith("00"):
        value = "+" + value[2:]
    if len(value) == 8 and value.isdigit():
        return "+47" + value
    if len(value) == 10 and value.isdigit() and value.startswith("47"):
        return "+" + value
    if value.startswith("+") and value[1:].isdigit() and 8 <= len(value) - 1 <= 15:
        return value
    return None
