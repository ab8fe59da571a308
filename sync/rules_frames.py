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
    name = _stripped_lengths(_Column(column(frame, "name").to_numpy(dtype=object)))
    active = column(frame, "is_active").to_numpy(dtype=object)
    org = _Column(column(frame, "organization_number").to_numpy(dtype=object))
    email = _Column(column(frame, "email").to_numpy(dtype=object))
    valid_org: np.ndarray = values(keys.org_number).notna().to_numpy(dtype=bool)
    valid_email: np.ndarray = values(keys.email).notna().to_numpy(dtype=bool)
    org_length, email_length = _stripped_lengths(org), _stripped_lengths(email)
    passing: np.ndarray = (
        (name > 0)
        & (name <= NAME_MAX_LENGTH)
        & _Column(active).of_type(bool)
        & np.equal(active, True)
        & _plain_numbers(_Column(column(frame, "customer_number").to_numpy(dtype=object)))
        & (org.of_type(type(None)) | (org_length == 0) | ((org_length > 0) & valid_org))
        & (
            email.of_type(type(None))
            | (email_length == 0)
            | ((email_length > 0) & (email_length <= EMAIL_MAX_LENGTH) & valid_email)
        )
    )
    return passing


class _Column:
    """A column's values and their types, the types read once."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.types = np.fromiter(map(type, values), dtype=object, count=len(values))

    def of_type(self, kind: type) -> np.ndarray:
        """True where a value is exactly of type ``kind`` (a bool is no int here)."""
        found: np.ndarray = np.equal(self.types, np.array(kind, dtype=object))
        return found


def _plain_numbers(numbers: _Column) -> np.ndarray:
    """No customer number, or a whole number (not a flag) in Tripletex's range."""
    whole = numbers.of_type(int)
    plain = numbers.of_type(type(None))
    values = numbers.values[whole]
    plain[whole] = (values > 0) & (values <= CUSTOMER_NUMBER_MAX)
    return plain


def _stripped_lengths(values: _Column) -> np.ndarray:
    """The length of each text value stripped; -1 for anything that is not text."""
    lengths = np.full(len(values.values), -1, dtype=np.intp)
    text = values.of_type(str)
    stripped = map(str.strip, values.values[text])
    lengths[text] = np.fromiter(map(len, stripped), dtype=np.intp, count=int(text.sum()))
    return lengths
