"""Which rows of a side's frame certainly break no rule: a vectorised first look for the plan.

:func:`sync.rules.check_record` stays the one judge of a record. The plan asks it only about
the rows this module cannot vouch for: a row counts as passing here only when every value is
plainly fine (a name of the right length, an active customer, a numeric customer number in
range, a valid or missing org number and e-mail); anything unusual is left to the rules, so a
record that breaks one still gets its failure, with its message, from them. The org number and
e-mail are the match keys already computed for the frame (:mod:`sync.keys`), the same scalar
rules the check applies (tests/test_normalize.py holds the twins to them). Kept apart from
:mod:`sync.rules` so that what needs only the scalar rules does not import pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sync import keys
from sync.keys import KeyValues, column
from sync.records import Entity
from sync.rules import CUSTOMER_NUMBER_MAX, EMAIL_MAX_LENGTH, NAME_MAX_LENGTH


def breaking_no_rule(entity: Entity, values: KeyValues) -> np.ndarray:
    """True for the rows of ``values.frame`` that break no rule in either direction, False
    where :func:`sync.rules.check_record` has to look (every row of an entity not covered)."""
    frame = values.frame
    if entity is not Entity.CUSTOMER or frame.empty:
        return np.zeros(len(frame), dtype=bool)
    name = _stripped_lengths(column(frame, "name").tolist())
    active = column(frame, "is_active").tolist()
    number = column(frame, "customer_number").tolist()
    org = column(frame, "organization_number").tolist()
    email = column(frame, "email").tolist()
    valid_org: np.ndarray = values(keys.org_number).notna().to_numpy(dtype=bool)
    valid_email: np.ndarray = values(keys.email).notna().to_numpy(dtype=bool)
    email_length = _stripped_lengths(email)
    passing: np.ndarray = (
        (name > 0)
        & (name <= NAME_MAX_LENGTH)
        & np.fromiter((value is True for value in active), bool, len(active))
        & np.fromiter((_plain_number(n) for n in number), bool, len(number))
        & (_missing(org) | (_stripped_lengths(org) == 0) | (_text(org) & valid_org))
        & (
            _missing(email)
            | (email_length == 0)
            | ((email_length <= EMAIL_MAX_LENGTH) & _text(email) & valid_email)
        )
    )
    return passing


def _plain_number(number: Any) -> bool:
    """No customer number, or a whole number in Tripletex's range."""
    return number is None or (type(number) is int and 0 < number <= CUSTOMER_NUMBER_MAX)


def _stripped_lengths(values: list[Any]) -> np.ndarray:
    """The length of each text value stripped; -1 for anything that is not text."""
    lengths = [len(value.strip()) if type(value) is str else -1 for value in values]
    return np.array(lengths, dtype=np.intp)


def _missing(values: list[Any]) -> np.ndarray:
    return np.fromiter((value is None for value in values), bool, len(values))


def _text(values: list[Any]) -> np.ndarray:
    return np.fromiter((type(value) is str for value in values), bool, len(values))
