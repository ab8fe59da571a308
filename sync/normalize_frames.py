"""Vectorised twins of :mod:`sync.normalize` over pandas Series (the matching frames).

Kept apart so that what needs only the scalar rules (the CLI, the connectors) does not pay
for importing pandas. Each twin equals its scalar function row by row (tests/test_normalize.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sync.normalize import (
    _COMBINING,
    _FOLD,
    _NON_NAME,
    _SPACES,
    company_name,
    company_stem,
    email,
    legal_form,
    org_number,
    postal_code,
    text,
)


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype("string")


def _each_distinct(series: pd.Series, scalar: Callable[[str], str | None]) -> pd.Series:
    """``scalar`` (memoised) on each distinct present value, NA where missing or where it gives
    None.

    A call per distinct value beats a chain of pandas ``.str`` steps (each of them a Python loop
    over every row) several times over on 100k rows; the rows then take their value by code."""
    codes, distinct = pd.factorize(series.to_numpy(dtype=object))  # missing: code -1
    found = [scalar(v if isinstance(v, str) else str(v)) for v in distinct]
    values = np.array([*found, None], dtype=object)[codes]  # -1 takes the trailing None
    return pd.Series(values, index=series.index, dtype="string")


def org_number_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`org_number`: NA where the number is missing or invalid."""
    return _each_distinct(series, org_number)


def email_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`email`."""
    return _each_distinct(series, email)


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


def company_name_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`company_name` (missing names become "")."""
    return _each_distinct(series, company_name).fillna("")


def company_stem_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`company_stem`."""
    return _each_distinct(series, company_stem).fillna("")


def legal_form_series(series: pd.Series) -> pd.Series:
    """Vectorised :func:`legal_form` (NA where the name has none)."""
    return _each_distinct(series, legal_form)


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
