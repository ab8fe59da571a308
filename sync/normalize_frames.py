"""Vectorised twins of :mod:`sync.normalize` over pandas Series (the matching frames).

Kept apart so that what needs only the scalar rules (the CLI, the connectors) does not pay
for importing pandas. Each twin equals its scalar function row by row (tests/test_normalize.py).

The org number and company name twins run each step once over all distinct values joined by
newlines (one call over one long text instead of a call per value), with the scalar patterns
confined to one line (their whitespace never a newline, ``$`` the end of each line); the org
number's check digit is NumPy arithmetic over the nine-digit values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

from sync.normalize import (
    _COMBINING,
    _EMAIL,
    _FOLD,
    _FOLD_LETTERS,
    _NON_NAME,
    _SPACES,
    LEGAL_FORMS,
    ORG_NUMBER_WEIGHTS,
    company_name,
    org_number_digits,
    postal_code,
    text,
)

_ORG_NOISE_LINES = re.compile(r"^[^\S\n]*NO|MVA[^\S\n]*$|[^\S\n]|[.\-]", re.I | re.M)
_NO_LINES = re.compile(r"^[^\S\n]*NO", re.I | re.M)
_MVA_LINES = re.compile(r"MVA[^\S\n]*$", re.I | re.M)
# What the pattern takes one character at a time from ASCII text: whitespace but the line
# break ("\s" is str.isspace, "\x1c" to "\x1f" included), "." and "-".
_ORG_NOISE_BYTES = bytes(c for c in range(128) if chr(c) in ".-" or (chr(c).isspace() and c != 10))
# The fold's letters as replacements, one str.replace each: faster than str.translate over a
# long text (the keys are not ASCII and the replacements are, so no replacement is replaced).
_FOLD_PAIRS = [
    (letter, to if isinstance(to, str) else "" if to is None else chr(to))
    for letter, to in _FOLD_LETTERS.items()
]
# _AS_SPELLINGS, starting with its "a" (the regex engine then skips to each "a" at once):
# "a" that no word character precedes is what ``\ba`` says.
_AS_SPELLINGS_LINES = re.compile(
    r"a(?<=(?<!\w)a)(?:[^\S\n]*[/.][^\S\n]*s\b\.?|[^\S\n]+s$)", re.MULTILINE
)
_NON_ALNUM_LINES = re.compile(r"[^0-9a-z\n]+")  # _NON_ALNUM, never across lines
# _NON_ALNUM over ASCII text: every other byte becomes a space, then runs of spaces one.
_NON_ALNUM_BYTES = bytes(
    c if chr(c) in "0123456789abcdefghijklmnopqrstuvwxyz\n" else ord(" ") for c in range(256)
)
_SPACE_RUNS = re.compile(b"  +")
# _LEGAL_SUFFIX on company names (single spaces between words of [0-9a-z]).
_LEGAL_SUFFIX_LINES = re.compile(r" (" + "|".join(LEGAL_FORMS) + r")$", re.MULTILINE)
_DIGITS = np.array((*ORG_NUMBER_WEIGHTS, 0), dtype=np.int64)  # the ninth digit weighs nothing


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype("string")


def _distinct(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's code (-1 where missing) and the distinct present values as text."""
    codes, distinct = pd.factorize(series.to_numpy(dtype=object))
    if pd.api.types.infer_dtype(distinct, skipna=False) == "string":
        return codes, distinct.tolist()
    return codes, [v if isinstance(v, str) else str(v) for v in distinct]


def _by_code(codes: np.ndarray, found: np.ndarray, index: pd.Index) -> pd.Series:
    """The rows' values from the distinct values' (``found``, None where there is none)."""
    with_none = np.full(len(found) + 1, None, dtype=object)
    with_none[:-1] = found
    values = with_none[codes]  # -1 takes the trailing None
    return pd.Series(values, index=index, dtype="string")


def _each_distinct(series: pd.Series, scalar: Callable[[str], str | None]) -> pd.Series:
    """``scalar`` (memoised) on each distinct present value, NA where missing or where it gives
    None.

    A call per distinct value beats a chain of pandas ``.str`` steps (each of them a Python loop
    over every row) several times over on 100k rows; the rows then take their value by code."""
    codes, distinct = _distinct(series)
    found = np.array([scalar(v) for v in distinct], dtype=object)
    return _by_code(codes, found, series.index)


def _lines(
    values: list[str], bulk: Callable[[str], str], scalar: Callable[[str], str]
) -> list[str]:
    """``bulk`` over ``values`` joined by newlines, split again: one call for all of them.

    ``bulk`` must work line by line; a value that holds a newline itself takes ``scalar``."""
    joined = "\n".join(values)
    if joined.count("\n") == max(len(values) - 1, 0):
        return bulk(joined).split("\n") if values else []
    own = [i for i, v in enumerate(values) if "\n" in v]
    result = _lines([v if "\n" not in v else "" for v in values], bulk, scalar)
    for i in own:
        result[i] = scalar(values[i])
    return result


def _fold_lines(joined: str) -> str:
    """:func:`sync.normalize.fold` of every line (NFKD changes no ASCII line)."""
    value = joined.casefold()
    for letter, to in _FOLD_PAIRS:
        if letter in value:
            value = value.replace(letter, to)
    if value.isascii():
        return value
    return _COMBINING.sub("", unicodedata.normalize("NFKD", value))


def _company_name_lines(joined: str) -> str:
    """:func:`sync.normalize.company_name` of every line."""
    value = _AS_SPELLINGS_LINES.sub(" as ", _fold_lines(joined).replace("&", " og "))
    if value.isascii():
        value = _SPACE_RUNS.sub(b" ", value.encode().translate(_NON_ALNUM_BYTES)).decode()
    else:
        value = _NON_ALNUM_LINES.sub(" ", value)
    # strip(): a line has at most one space at either end now
    value = value.replace("\n ", "\n").replace(" \n", "\n")
    return value.removeprefix(" ").removesuffix(" ")


@lru_cache(maxsize=8)
def company_names(distinct: tuple[str, ...]) -> tuple[list[str], list[str], np.ndarray]:
    """:func:`company_name`, :func:`company_stem` and :func:`legal_form` of each value.

    Memoised: the legal form and the name key of one frame read the same names."""
    names = _lines(list(distinct), _company_name_lines, company_name)
    # One pass: split around each trailing legal form (company names hold no newline): the
    # pieces between are the stems, the captured ones the forms.
    pieces = _LEGAL_SUFFIX_LINES.split("\n".join(names))
    stems = "".join(pieces[::2]).split("\n")
    forms = np.full(len(names), None, dtype=object)
    shorter = np.fromiter(map(len, stems), np.intp, len(stems)) < np.fromiter(
        map(len, names), np.intp, len(names)
    )
    forms[shorter] = np.array(pieces[1::2], dtype=object)  # one per name that has a form
    return names, stems, forms


def _org_digits(joined: str) -> str:
    """:func:`sync.normalize.org_number_digits` of every line."""
    if not joined.isascii():
        return _ORG_NOISE_LINES.sub("", joined)
    # The one pattern's parts in turn: a leading "NO" and a trailing "MVA" (neither is ever
    # taken apart by the single characters), then every other space, "." and "-" deleted,
    # a byte translation over ASCII text instead of a regex step per character.
    value = _MVA_LINES.sub("", _NO_LINES.sub("", joined))
    return value.encode().translate(None, _ORG_NOISE_BYTES).decode()


def _valid_org_numbers(digits: list[str]) -> np.ndarray:
    """Each value where it is nine digits with a correct check digit, else None."""
    found = np.full(len(digits), None, dtype=object)
    lengths = np.fromiter(map(len, digits), dtype=np.intp, count=len(digits))
    nine = np.flatnonzero(lengths == 9)
    if not len(nine):
        return found
    values = np.array(digits, dtype=object)[nine]
    points = values.astype("U9").view(np.uint32).reshape(-1, 9)
    chars = points.astype(np.int64) - ord("0")
    ascii_digits = ((chars >= 0) & (chars <= 9)).all(axis=1)
    check = (11 - (chars * _DIGITS).sum(axis=1) % 11) % 11
    # Digits of other scripts ("٣", "²") are no digits here, as in the scalar rule.
    valid = ascii_digits & (check == chars[:, 8])  # a check digit of 10 equals no digit
    found[nine[valid]] = values[valid]
    return found


def org_number_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`org_number`: NA where the number is missing or invalid."""
    codes, distinct = _distinct(series)
    # A value of ASCII digits alone has nothing to take away: only the others take the steps.
    count = len(distinct)
    plain = np.fromiter(map(str.isdigit, distinct), bool, count) & np.fromiter(
        map(str.isascii, distinct), bool, count
    )
    digits = distinct
    if not plain.all():
        others = np.flatnonzero(~plain).tolist()
        written = _lines(
            [distinct[i] for i in others],
            _org_digits,
            lambda value: org_number_digits(value) or "",
        )
        digits = list(distinct)
        for i, value in zip(others, written, strict=True):
            digits[i] = value
    return _by_code(codes, _valid_org_numbers(digits), series.index)


def email_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`email`."""
    codes, distinct = _distinct(series)
    # sync.normalize.email_form and the check, each a C-level map over the distinct values
    forms = np.array(list(map(str.lower, map(str.strip, distinct))), dtype=object)
    valid = np.fromiter(map(bool, map(_EMAIL.match, forms)), dtype=bool, count=len(forms))
    forms[~valid] = None
    return _by_code(codes, forms, series.index)


def fold_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`fold`."""
    value = _as_text(series).str.casefold().str.translate(_FOLD)
    rest = ~value.str.isascii().fillna(True).astype(bool)
    if rest.any():
        decomposed = value[rest].str.normalize("NFKD").str.replace(_COMBINING, "", regex=True)
        value = value.where(~rest, decomposed)
    return value


def text_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`text`."""
    return _each_distinct(series, text)


def _company_series(series: pd.Series, which: int) -> pd.Series:
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        # Text alone (no missing name): the legal form and the name key read the same column,
        # factorised once for both.
        codes, distinct = _distinct_texts(tuple(values.tolist()))
    else:
        codes, listed = _distinct(series)
        distinct = tuple(listed)
    found = company_names(distinct)[which]
    return _by_code(codes, np.array(found, dtype=object), series.index)


@lru_cache(maxsize=4)
def _distinct_texts(values: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each text's code and the distinct texts (memoised; equal texts are the same text)."""
    codes, distinct = pd.factorize(np.array(values, dtype=object))
    codes.setflags(write=False)
    return codes, tuple(distinct.tolist())


def company_name_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`company_name` (missing names become "")."""
    return _company_series(series, 0).fillna("")


def company_stem_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`company_stem`."""
    return _company_series(series, 1).fillna("")


def legal_form_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`legal_form` (NA where the name has none)."""
    return _company_series(series, 2)


def person_name_series(first: pd.Series, last: pd.Series) -> pd.Series:
    """Vectorised :func:`person_name`."""

    def words(series: pd.Series) -> pd.Series:
        value = fold_series(series.fillna("")).str.replace(_NON_NAME, " ", regex=True)
        return value.str.strip().str.replace(_SPACES, " ", regex=True)

    given = words(first).str.split(" ", n=1).str[0].fillna("")
    family = words(last).str.rsplit(" ", n=1).str[-1].fillna("")
    both = (given + " " + family).str.strip()
    return both


def postal_code_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`postal_code`."""
    return _each_distinct(series, postal_code)
