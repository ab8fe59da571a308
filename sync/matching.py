"""Initial-sync matching of Tripletex records against Svenn records, one entity at a time.

Keys are tried strongest first (DESIGN §3). Each pass looks only at records that no earlier pass
linked or found ambiguous, joins both sides on the normalised key and keeps a pair only when it
is one-to-one: a record with two candidates, or a candidate claimed by two records, makes every
record of that group *ambiguous*. A pair whose stronger key is present on both sides but differs
(same e-mail, different org numbers) is a *conflict* and also ambiguous. Ambiguous records are
never guessed and leave the later passes. Everything is merges and group-bys: no per-row Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sync import normalize
from sync.records import Entity, Record

KeyFunction = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Link:
    """A Tripletex record and a Svenn record that are the same thing, and the key that said so."""

    tripletex_id: str
    svenn_id: str
    key: str


@dataclass(frozen=True)
class Ambiguity:
    """A record that could not be matched one-to-one on ``key``; nothing is created for it."""

    entity: Entity
    side: str  # "tripletex" or "svenn": the side ``record_id`` belongs to
    record_id: str
    candidate_ids: tuple[str, ...]  # ids on the other side
    key: str
    conflict: str | None = None  # a stronger key that disagrees, when that was the reason


@dataclass
class MatchResult:
    """Links, ambiguities and the ids left unmatched on each side (all sorted)."""

    links: list[Link] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    unmatched_tripletex: list[str] = field(default_factory=list)
    unmatched_svenn: list[str] = field(default_factory=list)


def records_frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per record, one column per field; ``postal_address`` becomes ``postal_code``."""
    rows = [dict(record) for record in records]
    frame = pd.DataFrame(rows)
    if "postal_address" in frame.columns:
        addresses = frame.pop("postal_address")
        frame["postal_code"] = [a.postal_code if a is not None else None for a in addresses]
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series([], dtype="object")})
    return frame


# --- keys -------------------------------------------------------------------------------


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def _joined(left: pd.Series, right: pd.Series) -> pd.Series:
    """``left|right`` where both parts are present and non-empty, else NA."""
    left, right = left.astype("string"), right.astype("string")
    ok = left.notna() & right.notna() & (left != "") & (right != "")
    return (left + "|" + right).where(ok.fillna(False).astype(bool), pd.NA)


def _stripped(series: pd.Series) -> pd.Series:
    value = series.astype("string").str.strip()
    return value.where(value != "", pd.NA)


def _customer_number(frame: pd.DataFrame) -> pd.Series:
    raw = _column(frame, "customer_number")
    numeric = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce")
    whole = numeric.notna() & (numeric == numeric.round()) & (numeric >= 0)
    return numeric.where(whole).astype("Int64").astype("string")


def _name_postcode(frame: pd.DataFrame) -> pd.Series:
    name = normalize.company_name_series(_column(frame, "name"))
    return _joined(name, normalize.postal_code_series(_column(frame, "postal_code")))


def _name_birth_date(frame: pd.DataFrame) -> pd.Series:
    name = normalize.person_name_series(_column(frame, "first_name"), _column(frame, "last_name"))
    born = pd.to_datetime(_column(frame, "date_of_birth"), errors="coerce").dt.strftime("%Y-%m-%d")
    return _joined(name, born)


CUSTOMER_KEYS: tuple[tuple[str, KeyFunction], ...] = (
    ("org_number", lambda f: normalize.org_number_series(_column(f, "organization_number"))),
    ("customer_number", _customer_number),
    ("email", lambda f: normalize.email_series(_column(f, "email"))),
    ("name_postcode", _name_postcode),
)
EMPLOYEE_KEYS: tuple[tuple[str, KeyFunction], ...] = (
    ("email", lambda f: normalize.email_series(_column(f, "email"))),
    ("employee_number", lambda f: _stripped(_column(f, "employee_number"))),
    ("name_birth_date", _name_birth_date),
)


def _project_keys(customer_links: Mapping[str, str]) -> tuple[tuple[str, KeyFunction], ...]:
    """Project keys; the Tripletex customer id is read through ``customer_links``."""

    def name_customer(frame: pd.DataFrame) -> pd.Series:
        customer = _column(frame, "customer_id")
        if frame.attrs.get("side") == "tripletex":
            customer = customer.map(customer_links)
        return _joined(normalize.text_series(_column(frame, "name")), customer)

    return (
        ("number", lambda f: _stripped(_column(f, "number"))),
        ("name_customer", name_customer),
    )


# --- the passes ---------------------------------------------------------------------------


def match_customers(tripletex: pd.DataFrame, svenn: pd.DataFrame) -> MatchResult:
    """Match customers: org number → customer number → e-mail → name + postcode."""
    return match_on_keys(Entity.CUSTOMER, tripletex, svenn, CUSTOMER_KEYS)


def match_employees(tripletex: pd.DataFrame, svenn: pd.DataFrame) -> MatchResult:
    """Match employees: e-mail → employee number → name + date of birth."""
    return match_on_keys(Entity.EMPLOYEE, tripletex, svenn, EMPLOYEE_KEYS)


def match_projects(
    tripletex: pd.DataFrame, svenn: pd.DataFrame, *, customer_links: Mapping[str, str]
) -> MatchResult:
    """Match projects: number → name + customer (Tripletex customer id → Svenn id by link)."""
    return match_on_keys(Entity.PROJECT, tripletex, svenn, _project_keys(customer_links))


def match_on_keys(
    entity: Entity,
    tripletex: pd.DataFrame,
    svenn: pd.DataFrame,
    keys: Sequence[tuple[str, KeyFunction]],
) -> MatchResult:
    """Run the key passes in order and collect links, ambiguities and leftovers."""
    sides = {"tripletex": _prepared(tripletex, "tripletex"), "svenn": _prepared(svenn, "svenn")}
    done = {side: pd.Series(False, index=frame.index) for side, frame in sides.items()}
    computed: list[tuple[str, pd.Series, pd.Series]] = []  # stronger keys, for conflicts
    linked: list[pd.DataFrame] = []
    result = MatchResult()
    for key, key_of in keys:
        t_key, s_key = (_key_values(sides[side], done[side], side, key_of) for side in sides)
        pairs = _candidate_pairs(sides, t_key, s_key)
        if not pairs.empty:
            _flag_conflicts(pairs, computed)
            one_to_one = _one_to_one(pairs)
            linked.append(pairs.loc[one_to_one, ["t_id", "s_id"]].assign(key=key))
            result.ambiguous += _ambiguities(entity, pairs[~one_to_one], key)
            done["tripletex"] |= sides["tripletex"].index.isin(pairs["t"])
            done["svenn"] |= sides["svenn"].index.isin(pairs["s"])
        computed.append((key, t_key, s_key))
    _collect_links(result, linked)
    result.unmatched_tripletex = sorted(sides["tripletex"].loc[~done["tripletex"], "id"])
    result.unmatched_svenn = sorted(sides["svenn"].loc[~done["svenn"], "id"])
    result.ambiguous.sort(key=lambda a: (a.side, a.record_id))
    return result


def _prepared(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    prepared = frame.reset_index(drop=True)
    prepared["id"] = prepared["id"].astype(str)
    prepared.attrs["side"] = side
    return prepared


def _key_values(frame: pd.DataFrame, done: pd.Series, side: str, key_of: KeyFunction) -> pd.Series:
    """The key of each record not yet linked or ambiguous (NA where it has none)."""
    remaining = frame.loc[~done]
    remaining.attrs["side"] = side
    if remaining.empty:
        return pd.Series([], dtype="object")
    return key_of(remaining)


def _candidate_pairs(
    sides: dict[str, pd.DataFrame], t_key: pd.Series, s_key: pd.Series
) -> pd.DataFrame:
    """Rows (t, s, t_id, s_id, conflict) of remaining records that agree on the key."""
    left = pd.DataFrame({"t": t_key.index, "k": t_key.to_numpy()}).dropna(subset=["k"])
    right = pd.DataFrame({"s": s_key.index, "k": s_key.to_numpy()}).dropna(subset=["k"])
    pairs = left.merge(right, on="k", how="inner")[["t", "s"]]
    pairs["t_id"] = sides["tripletex"]["id"].to_numpy()[pairs["t"].to_numpy(dtype="int64")]
    pairs["s_id"] = sides["svenn"]["id"].to_numpy()[pairs["s"].to_numpy(dtype="int64")]
    pairs["conflict"] = pd.Series(pd.NA, index=pairs.index, dtype="object")
    return pairs


def _flag_conflicts(pairs: pd.DataFrame, stronger: list[tuple[str, pd.Series, pd.Series]]) -> None:
    """Mark pairs whose stronger key is present on both sides and differs."""
    for key, t_values, s_values in stronger:
        t_key = t_values.reindex(pairs["t"]).to_numpy()
        s_key = s_values.reindex(pairs["s"]).to_numpy()
        both = pd.notna(t_key) & pd.notna(s_key)
        differs = pd.Series(both, index=pairs.index)
        differs[both] = t_key[both] != s_key[both]
        pairs.loc[differs & pairs["conflict"].isna(), "conflict"] = key


def _one_to_one(pairs: pd.DataFrame) -> pd.Series:
    """True for pairs where each side has exactly one candidate and nothing conflicts."""
    per_t = pairs.groupby("t")["s"].transform("size")
    per_s = pairs.groupby("s")["t"].transform("size")
    return (per_t == 1) & (per_s == 1) & pairs["conflict"].isna()


def _ambiguities(entity: Entity, bad: pd.DataFrame, key: str) -> list[Ambiguity]:
    """One Ambiguity per record (either side) in a group that was not one-to-one."""
    # A loop over the (few) ambiguous pairs only, never over all rows.
    candidates: dict[tuple[str, str], set[str]] = {}
    conflicts: dict[tuple[str, str], str | None] = {}
    rows = zip(bad["t_id"], bad["s_id"], bad["conflict"], strict=True)
    for t_id, s_id, conflict in rows:
        for own, other in ((("tripletex", t_id), s_id), (("svenn", s_id), t_id)):
            candidates.setdefault(own, set()).add(other)
            if conflicts.get(own) is None:
                conflicts[own] = _or_none(conflict)
    return [
        Ambiguity(entity, side, rid, tuple(sorted(ids)), key, conflicts[(side, rid)])
        for (side, rid), ids in candidates.items()
    ]


def _or_none(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


def _collect_links(result: MatchResult, linked: list[pd.DataFrame]) -> None:
    if not linked:
        return
    frame = pd.concat(linked, ignore_index=True)[["t_id", "s_id", "key"]]
    frame = frame.sort_values("t_id", kind="stable")
    result.links = [Link(t, s, k) for t, s, k in frame.itertuples(index=False, name=None)]
