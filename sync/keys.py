"""The keys records are matched and de-duplicated on, and what tells two records apart.

A *key* says "these may be the same thing" when its normalised values are equal. A *strong*
key is an identifier (org number, customer number, personal e-mail, project number); a *weak*
key is something many different things can share (a company e-mail that may be an accountant's
or a generic address, a name). An *identity* is a value that, present on both records and
different, says they are plainly different things whatever else they share: two valid org
numbers, two legal forms ("Jon Mur ENK" is not "Jon Mur AS"), two birth dates.

Every function here takes a frame from :func:`sync.matching.records_frame` and returns a
``Series`` on its index (NA where the record has no value): vectorised, no per-row Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sync import normalize_frames as frames
from sync.records import Entity

KeyFunction = Callable[[pd.DataFrame], pd.Series]

# How a person names each key, in English and Norwegian (for the failed-record messages).
KEY_LABELS: dict[str, tuple[str, str]] = {
    "org_number": ("organisation number", "organisasjonsnummer"),
    "customer_number": ("customer number", "kundenummer"),
    "email": ("e-mail", "e-post"),
    "name_postcode": ("name and postcode", "navn og postnummer"),
    "employee_number": ("employee number", "ansattnummer"),
    "name_birth_date": ("name and date of birth", "navn og fødselsdato"),
    "number": ("project number", "prosjektnummer"),
    "name_customer": ("name and customer", "navn og kunde"),
    "legal_form": ("legal form", "selskapsform"),
    "date_of_birth": ("date of birth", "fødselsdato"),
    "name_created_on_both_sides": (
        "the same name, entered in both systems since the last sync",
        "samme navn, registrert i begge systemer siden forrige synkronisering",
    ),
}


def key_label(key: str) -> tuple[str, str]:
    """(English, Norwegian) name of a key, e.g. ("e-mail", "e-post")."""
    return KEY_LABELS.get(key, (key, key))


@dataclass(frozen=True)
class MatchKey:
    """One key: its name, how to compute it, and whether agreement on it is only a hint."""

    name: str
    values: KeyFunction
    weak: bool = False


@dataclass(frozen=True)
class KeyRules:
    """The keys of one entity, strongest first, and the identities that tell records apart."""

    keys: tuple[MatchKey, ...]
    identities: tuple[tuple[str, KeyFunction], ...] = ()
    # (key, identity): a value of that key carried by records with two or more different
    # values of that identity (an e-mail used by companies with different org numbers: an
    # accountant's, a generic address) is shared, and no sign that two records are one thing.
    shared: tuple[str, str] | None = None


class KeyValues:
    """The values of each key function on one frame, each computed once: the passes, the
    identities and the duplicate check ask for the same keys (the org number four times)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._found: dict[KeyFunction, pd.Series] = {}
        self._codes: dict[KeyFunction, np.ndarray] = {}
        self._table: CodeTable | None = None

    def __call__(self, key_of: KeyFunction) -> pd.Series:
        """``key_of(frame)``, remembered (an empty frame gives an empty series)."""
        if key_of not in self._found:
            empty = self.frame.empty
            self._found[key_of] = pd.Series([], dtype="object") if empty else key_of(self.frame)
        return self._found[key_of]

    @property
    def table(self) -> CodeTable | None:
        """The table whose codes these values share with other frames' values, if any."""
        return self._table

    def codes(self, key_of: KeyFunction) -> np.ndarray:
        """The rows' values of ``key_of`` as integer codes (-1 where missing), remembered:
        equal values, equal codes, also across the frames of :attr:`table`."""
        if self._table is not None:
            return self._table.codes(self, key_of)
        if key_of not in self._codes:
            self._codes[key_of] = pd.factorize(self(key_of).to_numpy(dtype=object))[0]
        return self._codes[key_of]


class CodeTable:
    """One factorisation of each key's values over several frames (both sides of a plan):
    matching joins the sides on these codes and the duplicate check counts them, so the texts
    are hashed once per key instead of once per use."""

    def __init__(self, *members: KeyValues) -> None:
        self.members = members
        self._codes: dict[KeyFunction, list[np.ndarray]] = {}
        for member in members:
            member._table = self

    def codes(self, member: KeyValues, key_of: KeyFunction) -> np.ndarray:
        """``member``'s codes of ``key_of`` in this table."""
        if key_of not in self._codes:
            values = [m(key_of).to_numpy(dtype=object) for m in self.members]
            codes, _ = pd.factorize(np.concatenate(values))
            ends = np.cumsum([len(v) for v in values])
            self._codes[key_of] = np.split(codes, ends[:-1])
        return self._codes[key_of][next(i for i, m in enumerate(self.members) if m is member)]


def joint_codes(a: KeyValues, b: KeyValues, key_of: KeyFunction) -> tuple[np.ndarray, np.ndarray]:
    """Both frames' values of ``key_of`` as codes of one factorisation (-1 where missing)."""
    if a.table is not None and a.table is b.table:
        return a.codes(key_of), b.codes(key_of)
    left, right = (values(key_of).to_numpy(dtype=object) for values in (a, b))
    codes, _ = pd.factorize(np.concatenate([left, right]))
    return codes[: len(left)], codes[len(left) :]


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column, or an all-NA one when the frame has no such field."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def joined(left: pd.Series, right: pd.Series) -> pd.Series:
    """``left|right`` where both parts are present and non-empty, else NA."""
    a, b = left.to_numpy(dtype=object), right.to_numpy(dtype=object)
    present = np.flatnonzero(~(pd.isna(a) | pd.isna(b)))
    x, y = (_as_str(values[present]) for values in (a, b))
    both = (x != "") & (y != "")
    values = np.full(len(a), None, dtype=object)
    values[present[both]] = x[both] + "|" + y[both]
    return pd.Series(values, index=left.index, dtype="string")


def _as_str(values: np.ndarray) -> np.ndarray:
    """``str`` of each value, as objects."""
    if pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty"):
        return values
    return np.array([str(value) for value in values], dtype=object)


def stripped(series: pd.Series) -> pd.Series:
    """Trimmed text, NA where empty."""
    value = series.astype("string").str.strip()
    return value.where(value != "", pd.NA)


def org_number(frame: pd.DataFrame) -> pd.Series:
    """Checksum-valid org number, NA otherwise."""
    return frames.org_number_series(column(frame, "organization_number"))


def customer_number(frame: pd.DataFrame) -> pd.Series:
    """Whole, non-negative customer number as text (free-text numbers never match)."""
    raw = column(frame, "customer_number")
    plain = _plain_customer_numbers(raw.to_numpy(dtype=object))
    if plain is not None:
        return pd.Series(plain, index=raw.index, dtype="string")
    return customer_numbers_as_a_whole(raw)


# Whole numbers up to 2^53 are exact as float64 too: whatever dtype ``to_numeric`` chooses for
# a column of them, each reads back as itself.
_EXACT = 2**53
# A letter no spelling of a number uses (not one of "e", "inf", "infinity", "nan", nor the
# "b", "o", "x" of other bases): a text holding one ("K-10005") is no number to ``to_numeric``.
_NO_NUMBER = re.compile(r"[c-dg-hj-mpq-su-wzC-DG-HJ-MPQ-SU-WZ]")


def _plain_customer_numbers(values: np.ndarray) -> np.ndarray | None:
    """:func:`customer_numbers_as_a_whole` for a column of ``int`` (not ``bool``) within ±2^53,
    ``None`` and texts that are plainly no number (a letter no number has): the number as text
    where it is not negative, else None. None for any other column (a text that may be a
    number, a float, a bigger number): ``to_numeric`` decides its dtype from the column as a
    whole, and :func:`customer_numbers_as_a_whole` must judge it."""
    kinds = np.fromiter(map(type, values), dtype=object, count=len(values))
    if not set(kinds.tolist()) <= {int, type(None), str}:
        return None
    text = np.equal(kinds, np.array(str, dtype=object))
    if text.any():
        if not all(map(_NO_NUMBER.search, values[text].tolist())):
            return None
        values = values.copy()
        values[text] = None  # each of them NA for to_numeric
    present = np.flatnonzero(~pd.isna(values))
    numbers = values[present].tolist()
    if numbers and (max(numbers) > _EXACT or min(numbers) < -_EXACT):
        return None
    shown = present[np.array(numbers, dtype=np.int64) >= 0]
    found = np.full(len(values), None, dtype=object)
    found[shown] = np.array(list(map(str, values[shown].tolist())), dtype=object)
    return found


def customer_numbers_as_a_whole(raw: pd.Series) -> pd.Series:
    """:func:`customer_number` of any column: ``to_numeric`` over the trimmed text."""
    numeric = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce")
    whole = numeric.notna() & (numeric == numeric.round()) & (numeric >= 0)
    return numeric.where(whole).astype("Int64").astype("string")


def email(frame: pd.DataFrame) -> pd.Series:
    """Trimmed, lower-case, well-formed e-mail."""
    return frames.email_series(column(frame, "email"))


def name_postcode(frame: pd.DataFrame) -> pd.Series:
    """Company name without its legal form, and postcode (the form is an identity)."""
    name = frames.company_stem_series(column(frame, "name"))
    return joined(name, frames.postal_code_series(column(frame, "postal_code")))


def legal_form(frame: pd.DataFrame) -> pd.Series:
    """The legal form at the end of the company name ("as", "enk"...), NA when absent."""
    return frames.legal_form_series(column(frame, "name"))


def birth_date(frame: pd.DataFrame) -> pd.Series:
    """Date of birth as YYYY-MM-DD."""
    born = pd.to_datetime(column(frame, "date_of_birth"), errors="coerce")
    return born.dt.strftime("%Y-%m-%d").astype("string")


def name_birth_date(frame: pd.DataFrame) -> pd.Series:
    """First given name + last surname, folded, and date of birth."""
    name = frames.person_name_series(column(frame, "first_name"), column(frame, "last_name"))
    return joined(name, birth_date(frame))


def project_number(frame: pd.DataFrame) -> pd.Series:
    """The project number as written, trimmed."""
    return stripped(column(frame, "number"))


def project_name_customer(customer_of: Callable[[pd.DataFrame], pd.Series]) -> KeyFunction:
    """Project name (folded) + customer, the customer read by ``customer_of``."""

    def key(frame: pd.DataFrame) -> pd.Series:
        return joined(frames.text_series(column(frame, "name")), customer_of(frame))

    return key


CUSTOMER_IDENTITIES: tuple[tuple[str, KeyFunction], ...] = (
    ("org_number", org_number),
    ("legal_form", legal_form),
)

CUSTOMER_KEYS = KeyRules(
    keys=(
        MatchKey("org_number", org_number),
        MatchKey("customer_number", customer_number),
        MatchKey("email", email, weak=True),
        MatchKey("name_postcode", name_postcode, weak=True),
    ),
    identities=CUSTOMER_IDENTITIES,
)
EMPLOYEE_IDENTITIES: tuple[tuple[str, KeyFunction], ...] = (("date_of_birth", birth_date),)
# An e-mail is weak for people too: field workers without their own share the firm's mailbox.
EMPLOYEE_KEYS = KeyRules(
    keys=(
        MatchKey("email", email, weak=True),
        MatchKey("employee_number", lambda f: stripped(column(f, "employee_number"))),
        MatchKey("name_birth_date", name_birth_date),
    ),
    identities=EMPLOYEE_IDENTITIES,
)


def project_keys(customer_links: Mapping[str, str]) -> KeyRules:
    """Project keys for matching; the Tripletex customer id is read through ``customer_links``."""

    def customer(frame: pd.DataFrame) -> pd.Series:
        value = column(frame, "customer_id")
        if frame.attrs.get("side") == "tripletex":
            value = value.map(customer_links)
        return value

    return KeyRules(
        keys=(
            MatchKey("number", project_number),
            MatchKey("name_customer", project_name_customer(customer)),
        )
    )


def match_rules(entity: Entity, customer_links: Mapping[str, str]) -> KeyRules:
    """The keys the initial sync matches ``entity`` on (projects read their Tripletex customer
    through ``customer_links``); ValueError for an entity it does not match."""
    if entity is Entity.PROJECT:
        return project_keys(customer_links)
    rules = {Entity.CUSTOMER: CUSTOMER_KEYS, Entity.EMPLOYEE: EMPLOYEE_KEYS}.get(entity)
    if rules is None:
        raise ValueError(f"the initial sync does not match {entity.value}")
    return rules


# Duplicates inside one system: every key says "same thing" unless an identity contradicts.
DUPLICATE_KEYS: dict[Entity, KeyRules] = {
    Entity.CUSTOMER: replace(CUSTOMER_KEYS, shared=("email", "org_number")),
    Entity.EMPLOYEE: KeyRules(
        keys=(MatchKey("email", email, weak=True), MatchKey("name_birth_date", name_birth_date)),
        identities=EMPLOYEE_IDENTITIES,
        shared=("email", "date_of_birth"),
    ),
    Entity.PROJECT: KeyRules(
        keys=(
            MatchKey("number", project_number),
            MatchKey(
                "name_customer",
                project_name_customer(lambda f: stripped(column(f, "customer_id"))),
            ),
        )
    ),
}


def contradicting(
    identities: Mapping[str, tuple[np.ndarray, np.ndarray]],
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """For pairs of row positions ``left``/``right``: True where an identity is present on
    both rows and differs. ``identities`` maps a name to its codes (-1 where missing; one
    factorisation for both) for the left and right rows."""
    found = np.zeros(len(left), dtype=bool)
    for left_codes, right_codes in identities.values():
        a, b = left_codes[left], right_codes[right]
        found |= (a >= 0) & (b >= 0) & (a != b)
    return found
