"""Initial-sync matching of Tripletex records against Svenn records, one entity at a time.

Keys are tried strongest first (DESIGN §3, keys in :mod:`sync.keys`). Each pass looks only at
records that no earlier pass linked or found ambiguous, joins both sides on the normalised key
and keeps a pair only when it is one-to-one: a record with two candidates, or a candidate
claimed by two records, makes every record of that group *ambiguous*. A pair whose stronger key
is present on both sides but differs (same customer number, different org numbers) is a
*conflict* and also ambiguous. A *weak* key (a company e-mail, a name) never outweighs an
identity: two records with different valid org numbers, or different legal forms, are plainly
two things and are no candidates for each other; and a weak-key pair is only one-to-one when
neither record has a lookalike on its own side that the key cannot tell from it. Ambiguous
records are never guessed and leave the later passes. Everything is merges and counts over
integer codes of the key values: no per-row Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from sync.decisions import NO_DECISIONS, Decisions
from sync.keys import (
    CUSTOMER_KEYS,
    EMPLOYEE_KEYS,
    CodeTable,
    KeyRules,
    KeyValues,
    contradicting,
    joint_codes,
    project_keys,
)
from sync.records import Entity, Record

# A weak key value carried by more records than this on one side is a placeholder or a shared
# mailbox: its carriers all count as having lookalikes, without comparing every pair of them.
MAX_LOOKALIKE_GROUP = 100
LINK_COLUMNS = ("t_id", "s_id", "key")


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
    lookalike_ids: tuple[str, ...] = ()  # same-side records the weak key cannot tell apart


@dataclass
class MatchResult:
    """Links, ambiguities and the ids left unmatched on each side (all sorted)."""

    links: list[Link] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    unmatched_tripletex: list[str] = field(default_factory=list)
    unmatched_svenn: list[str] = field(default_factory=list)
    # Pairs that agreed on a weak key but are plainly different (e.g. an accountant's e-mail
    # on two companies with different org numbers): kept apart, each synced on its own.
    kept_apart: int = 0


def records_frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per record, one column per field; ``postal_address`` becomes ``postal_code``."""
    if records and len({type(record) for record in records}) == 1:
        # Column by column from the models' own field values (their ``__dict__``), as plain
        # objects (the keys make text of the columns they use), each read straight into its
        # array (``fromiter`` keeps a value that is a sequence one object) and not copied again.
        fields = list(map(vars, records))
        names = list(type(records[0]).model_fields)
        columns = {
            name: _objects(map(itemgetter(name), fields), len(fields))
            for name in names
            if name != "postal_address"
        }
        if "postal_address" in names:
            addresses = map(itemgetter("postal_address"), fields)
            codes = [a.postal_code if a is not None else None for a in addresses]
            columns["postal_code"] = _objects(codes, len(fields))
        frame = pd.DataFrame(columns, copy=False)
    else:
        frame = pd.DataFrame([dict(record) for record in records])
        if "postal_address" in frame.columns:
            codes = [a.postal_code if a is not None else None for a in frame.pop("postal_address")]
            frame["postal_code"] = pd.Series(codes, index=frame.index, dtype=object)
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series([], dtype="object")})
    return frame


def _objects(values: Iterable[Any], count: int) -> pd.Series:
    """A column of these values as they are (``fromiter`` keeps a sequence one object)."""
    return pd.Series(np.fromiter(values, dtype=object, count=count), dtype=object, copy=False)


class RowsOf(KeyValues):
    """The key values of some rows of a larger frame, cut from that frame's own, each computed
    once: matching and the duplicate check ask for the same keys of the same records. Every
    key is computed row by row, so a key of the rows is the rows of the key."""

    def __init__(self, frame: pd.DataFrame, whole: KeyValues, rows: np.ndarray) -> None:
        super().__init__(frame)
        self.whole, self.rows = whole, rows

    def __call__(self, key_of: Any) -> pd.Series:
        """``key_of(frame)``, taken from the whole frame's values."""
        if key_of not in self._found and not self.frame.empty:
            values = self.whole(key_of).take(self.rows)
            self._found[key_of] = values.set_axis(self.frame.index)
        return super().__call__(key_of)

    @property
    def table(self) -> CodeTable | None:
        """The whole frame's table: a code of the rows is the whole frame's code."""
        return self.whole.table

    def codes(self, key_of: Any) -> np.ndarray:
        """The whole frame's codes of ``key_of``, of these rows."""
        if key_of not in self._codes:
            self._codes[key_of] = self.whole.codes(key_of)[self.rows]
        return self._codes[key_of]


class SideFrame:
    """Every record of one side in one frame, with key values computed once; the frames of
    subsets (the records matching sees, those the duplicate check sees) are cut from it."""

    def __init__(self, records: Iterable[Record], side: str) -> None:
        unique = list(records)
        self.position = dict(zip(map(id, unique), range(len(unique)), strict=True))
        if len(self.position) < len(unique):  # a record given twice has one row
            unique = list(dict(zip(map(id, unique), unique, strict=True)).values())
            self.position = dict(zip(map(id, unique), range(len(unique)), strict=True))
        self.frame = records_frame(unique)
        self.frame.attrs["side"] = side
        self.values = KeyValues(self.frame)

    def of(self, records: Sequence[Record]) -> tuple[pd.DataFrame, KeyValues]:
        """The frame of ``records`` (each one of this side's) and their key values."""
        positions = map(self.position.__getitem__, map(id, records))
        rows = np.fromiter(positions, dtype=np.intp, count=len(records))
        frame = self.frame.iloc[rows].reset_index(drop=True)
        frame.attrs.update(self.frame.attrs)
        return frame, RowsOf(frame, self.values, rows)


# --- the passes ---------------------------------------------------------------------------


def match_customers(
    tripletex: pd.DataFrame,
    svenn: pd.DataFrame,
    decisions: Decisions = NO_DECISIONS,
    *,
    values: Mapping[str, KeyValues] | None = None,
) -> MatchResult:
    """Match customers: org number → customer number → e-mail → name + postcode."""
    return match_on_keys(Entity.CUSTOMER, tripletex, svenn, CUSTOMER_KEYS, decisions, values)


def match_employees(
    tripletex: pd.DataFrame,
    svenn: pd.DataFrame,
    decisions: Decisions = NO_DECISIONS,
    *,
    values: Mapping[str, KeyValues] | None = None,
) -> MatchResult:
    """Match employees: e-mail → employee number → name + date of birth."""
    return match_on_keys(Entity.EMPLOYEE, tripletex, svenn, EMPLOYEE_KEYS, decisions, values)


def match_projects(
    tripletex: pd.DataFrame,
    svenn: pd.DataFrame,
    *,
    customer_links: Mapping[str, str],
    decisions: Decisions = NO_DECISIONS,
    values: Mapping[str, KeyValues] | None = None,
) -> MatchResult:
    """Match projects: number → name + customer (Tripletex customer id → Svenn id by link)."""
    rules = project_keys(customer_links)
    return match_on_keys(Entity.PROJECT, tripletex, svenn, rules, decisions, values)


# Per identity, the codes of its values for the left and the right rows (one factorisation)
Identities = dict[str, tuple[np.ndarray, np.ndarray]]


def match_on_keys(
    entity: Entity,
    tripletex: pd.DataFrame,
    svenn: pd.DataFrame,
    rules: KeyRules,
    decisions: Decisions = NO_DECISIONS,
    values: Mapping[str, KeyValues] | None = None,
) -> MatchResult:
    """Run the key passes in order and collect links, ambiguities and leftovers.

    Pairs a person kept apart (``decisions``) are never candidates, and same-side records a
    person said are different are never each other's lookalikes. ``values`` (per side, on the
    frames' rows in order) are key values already known, e.g. from :class:`SideFrame`.
    """
    sides = {"tripletex": _prepared(tripletex, "tripletex"), "svenn": _prepared(svenn, "svenn")}
    done = {side: pd.Series(False, index=frame.index) for side, frame in sides.items()}
    if values is None:
        values = {side: KeyValues(frame) for side, frame in sides.items()}
        CodeTable(values["tripletex"], values["svenn"])  # a key and an identity: one factorising
    identity = {
        name: joint_codes(values["tripletex"], values["svenn"], of) for name, of in rules.identities
    }
    computed: list[tuple[str, np.ndarray, np.ndarray]] = []  # stronger keys' codes
    linked: list[pd.DataFrame] = []
    apart: list[pd.DataFrame] = []
    result = MatchResult()
    for key in rules.keys:
        # Both sides' values as codes of one factorisation (-1 where missing): equal values,
        # equal codes; the passes join, count and compare integers, not texts.
        both = joint_codes(values["tripletex"], values["svenn"], key.values)
        codes = dict(zip(sides, both, strict=True))
        pairs = _candidate_pairs(sides, codes, done)
        if decisions.kept_apart and not pairs.empty:
            pairs = pairs[
                [
                    not decisions.apart(t, s)
                    for t, s in zip(pairs["t_id"], pairs["s_id"], strict=True)
                ]
            ]
        lookalikes: dict[str, pd.DataFrame] = {}
        if key.weak and identity:
            different = contradicting(identity, *_rows(pairs, "t", "s"))
            apart.append(pairs.loc[different, ["t", "s"]])
            pairs = pairs[~different]
            # Lookalikes among *all* records of a side: an old copy without org number next to
            # a linked namesake could be either company, so it pairs with neither.
            lookalikes = {
                side: without_told_apart(
                    same_code_pairs(codes[side], {n: (v[i], v[i]) for n, v in identity.items()}),
                    sides[side]["id"],
                    decisions.told_apart(side),
                )
                for i, side in enumerate(sides)
            }
        if not pairs.empty:
            _flag_conflicts(pairs, computed)
            one_to_one = _one_to_one(pairs)
            if lookalikes:
                alike_t = pairs["t"].isin(lookalikes["tripletex"]["a"])
                alike_s = pairs["s"].isin(lookalikes["svenn"]["a"])
                one_to_one &= ~(alike_t | alike_s)
            linked.append(pairs.loc[one_to_one, ["t_id", "s_id"]].assign(key=key.name))
            bad = pairs[~one_to_one]
            alike = _alike_ids(sides, lookalikes, bad)
            result.ambiguous += _ambiguities(entity, bad, key.name, alike)
            done["tripletex"] |= sides["tripletex"].index.isin(pairs["t"])
            done["svenn"] |= sides["svenn"].index.isin(pairs["s"])
        computed.append((key.name, codes["tripletex"], codes["svenn"]))
    _collect_links(result, linked)
    if apart:
        result.kept_apart = len(pd.concat(apart).drop_duplicates())
    # (.tolist(): iterating a text column yields its values one pandas call at a time)
    result.unmatched_tripletex = sorted(sides["tripletex"].loc[~done["tripletex"], "id"].tolist())
    result.unmatched_svenn = sorted(sides["svenn"].loc[~done["svenn"], "id"].tolist())
    result.ambiguous.sort(key=lambda a: (a.side, a.record_id))
    return result


def _prepared(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    prepared = frame.reset_index(drop=True)
    if pd.api.types.infer_dtype(prepared["id"], skipna=False) != "string":  # ids of text stay
        prepared["id"] = prepared["id"].astype(str)
    prepared.attrs["side"] = side
    return prepared


def equal_code_rows(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of positions (i, j) with ``left[i] == right[j]``, for codes that are all
    present (>= 0): i ascending, and j ascending within the same i, the order an inner
    ``DataFrame.merge`` on the code gives. Counted by ``np.bincount`` over the codes instead of
    hashed by a merge: the same at 100,000 rows, and a hundredth of the cost for the few rows
    of a realtime tick (a merge costs ≈0.7 ms however small its frames)."""
    if not len(left) or not len(right):
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    per_code = np.bincount(right, minlength=int(left.max()) + 1)
    first = np.cumsum(per_code) - per_code  # where each code's rows start in ``order``
    order = np.argsort(right, kind="stable")
    counts = per_code[left]
    rows = np.repeat(np.arange(len(left), dtype=np.intp), counts)
    starts = np.repeat(first[left] - (np.cumsum(counts) - counts), counts)
    return rows, order[starts + np.arange(len(rows))]


def same_code_pairs(codes: np.ndarray, identity: Identities) -> pd.DataFrame:
    """Pairs (a, b) of different rows on one side that share a key value and whose identities
    do not contradict. Rows of a group larger than MAX_LOOKALIKE_GROUP pair with themselves.
    The rows are positions (0, 1, ...) and ``codes`` their key values' codes (-1 where
    missing; equal values, equal codes)."""
    present = np.flatnonzero(codes >= 0)
    sizes = np.bincount(codes[present]) if len(present) else np.zeros(0, dtype=np.intp)
    size = sizes[codes[present]]
    big = present[size > MAX_LOOKALIKE_GROUP]
    rows = present[(size > 1) & (size <= MAX_LOOKALIKE_GROUP)]
    a, b = (rows[i] for i in equal_code_rows(codes[rows], codes[rows]))
    different = a != b
    a, b = a[different], b[different]
    if identity and len(a):
        keep = ~contradicting(identity, a, b)
        a, b = a[keep], b[keep]
    a, b = np.concatenate([a, big]), np.concatenate([b, big])
    return pd.DataFrame({"a": a.astype(np.int64), "b": b.astype(np.int64)})


def without_told_apart(
    pairs: pd.DataFrame, ids: pd.Series, told_apart: set[tuple[str, str]]
) -> pd.DataFrame:
    """Same-side pairs (row positions a, b) less those a person said are different things."""
    if not told_apart or pairs.empty:
        return pairs
    values = ids.astype(str).to_numpy()
    a = values[pairs["a"].to_numpy(dtype="int64")]
    b = values[pairs["b"].to_numpy(dtype="int64")]
    keep = [(x, y) not in told_apart for x, y in zip(a, b, strict=True)]
    return pairs[keep]


def _rows(pairs: pd.DataFrame, left: str, right: str) -> tuple[np.ndarray, np.ndarray]:
    """The pairs' row positions, left and right."""
    return pairs[left].to_numpy(dtype=np.intp), pairs[right].to_numpy(dtype=np.intp)


def _alike_ids(
    sides: dict[str, pd.DataFrame], lookalikes: dict[str, pd.DataFrame], bad: pd.DataFrame
) -> dict[tuple[str, str], tuple[str, ...]]:
    """(side, id) → the ids of its same-side lookalikes, for the records in ``bad`` pairs."""
    found: dict[tuple[str, str], set[str]] = {}
    for side, rows in (("tripletex", bad["t"]), ("svenn", bad["s"])):
        pairs = lookalikes.get(side)
        if pairs is None or pairs.empty:
            continue
        pairs = pairs[pairs["a"].isin(rows) & (pairs["a"] != pairs["b"])]
        ids = sides[side]["id"].to_numpy()
        own = ids[pairs["a"].to_numpy(dtype="int64")]
        other = ids[pairs["b"].to_numpy(dtype="int64")]
        for a, b in zip(own, other, strict=True):
            found.setdefault((side, str(a)), set()).add(str(b))
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _candidate_pairs(
    sides: dict[str, pd.DataFrame], codes: dict[str, np.ndarray], done: dict[str, pd.Series]
) -> pd.DataFrame:
    """Rows (t, s, t_id, s_id, conflict) of remaining records that agree on the key."""
    t_rows, s_rows = (np.flatnonzero((codes[side] >= 0) & ~done[side].to_numpy()) for side in sides)
    t, s = equal_code_rows(codes["tripletex"][t_rows], codes["svenn"][s_rows])
    t, s = t_rows[t].astype(np.int64), s_rows[s].astype(np.int64)
    return pd.DataFrame(  # built whole, not a column at a time
        {
            "t": t,
            "s": s,
            "t_id": sides["tripletex"]["id"].to_numpy()[t],
            "s_id": sides["svenn"]["id"].to_numpy()[s],
            "conflict": np.full(len(t), pd.NA, dtype=object),
        }
    )


def _flag_conflicts(
    pairs: pd.DataFrame, stronger: list[tuple[str, np.ndarray, np.ndarray]]
) -> None:
    """Mark pairs whose stronger key is present on both sides and differs (by its codes)."""
    for key, t_codes, s_codes in stronger:
        t_key = t_codes[pairs["t"].to_numpy(dtype="int64")]
        s_key = s_codes[pairs["s"].to_numpy(dtype="int64")]
        differs = (t_key >= 0) & (s_key >= 0) & (t_key != s_key)
        pairs.loc[differs & pairs["conflict"].isna().to_numpy(), "conflict"] = key


def _one_to_one(pairs: pd.DataFrame) -> pd.Series:
    """True for pairs where each side has exactly one candidate and nothing conflicts."""
    # Rows are positions (0, 1, ...): each one's number of candidates is a count by row.
    t, s = (pairs[side].to_numpy(dtype=np.intp) for side in ("t", "s"))
    single = (np.bincount(t)[t] == 1) & (np.bincount(s)[s] == 1)
    return pd.Series(single, index=pairs.index) & pairs["conflict"].isna()


def _ambiguities(
    entity: Entity,
    bad: pd.DataFrame,
    key: str,
    lookalikes: Mapping[tuple[str, str], tuple[str, ...]],
) -> list[Ambiguity]:
    """One Ambiguity per record (either side) in a group that was not one-to-one."""
    # A loop over the (few) ambiguous pairs only, never over all rows.
    candidates: dict[tuple[str, str], set[str]] = {}
    conflicts: dict[tuple[str, str], str | None] = {}
    rows = zip(bad["t_id"].tolist(), bad["s_id"].tolist(), bad["conflict"].tolist(), strict=True)
    for t_id, s_id, conflict in rows:
        for own, other in ((("tripletex", t_id), s_id), (("svenn", s_id), t_id)):
            candidates.setdefault(own, set()).add(other)
            if conflicts.get(own) is None:
                conflicts[own] = _or_none(conflict)
    return [
        Ambiguity(
            entity,
            side,
            rid,
            tuple(sorted(ids)),
            key,
            conflicts[(side, rid)],
            lookalikes.get((side, rid), ()),
        )
        for (side, rid), ids in candidates.items()
    ]


def _or_none(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


def _collect_links(result: MatchResult, linked: list[pd.DataFrame]) -> None:
    if not linked:
        return
    columns = ([*chain.from_iterable(f[name].tolist() for f in linked)] for name in LINK_COLUMNS)
    # By Tripletex id, ties in pass order (a stable sort)
    rows = sorted(zip(*columns, strict=True), key=itemgetter(0))
    result.links = [Link(t, s, k) for t, s, k in rows]
