"""Duplicates inside one system, found before anything is created on the other side.

A record that matching left over would be created on the other side. If it is the same thing
as a record on its own side that is linked (or will be created), creating it would put that
thing twice into the other system: an older Svenn customer without its org number next to the
newer one with it, the same e-mail twice. Such a record is *held back* instead.

Records are ranked: linked records first, then records that carry the strongest key (a valid
org number, an e-mail, a project number), then records waiting for a fix (a rule or an
ambiguity stopped them: they exist, and will sync once fixed), then the rest, each by id. A
leftover is held back when it shares a key (:data:`sync.keys.DUPLICATE_KEYS`) with a
better-ranked record of its side, unless an identity says they are plainly different (two
valid org numbers, two legal forms, two dates of birth) or the key is shared: an e-mail
carried by companies with different org numbers (an accountant's, a generic address) tells
nothing. Among leftovers that duplicate each other the best-ranked one is still created, so
the thing exists on both sides, once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sync.keys import DUPLICATE_KEYS, KeyRules, KeyValues, joint_codes
from sync.matching import RowsOf, same_code_pairs, without_told_apart
from sync.records import Entity


@dataclass(frozen=True)
class Duplicate:
    """A leftover record that is the same thing as better-ranked records of its own side."""

    record_id: str
    duplicate_of: tuple[str, ...]  # same-side ids, best-ranked first
    key: str


def find_duplicates(
    entity: Entity,
    frame: pd.DataFrame,
    *,
    kept: Collection[str],
    leftovers: Collection[str],
    waiting: Collection[str] = (),
    context: pd.DataFrame | None = None,
    told_apart: Collection[tuple[str, str]] = (),
    values: KeyValues | None = None,
    context_values: KeyValues | None = None,
) -> list[Duplicate]:
    """Leftovers of ``frame`` (one side) that duplicate a better-ranked record of that side.

    ``kept`` are ids linked on this side, ``waiting`` ids of records that failed (never held
    back again here); ``context`` (the other side's records) only helps to tell a shared e-mail
    from a company's own; ``told_apart`` are id pairs a person said are not duplicates.
    ``values``/``context_values`` are the key values of ``frame``/``context`` when already
    known (:class:`sync.matching.SideFrame`).
    """
    rules = DUPLICATE_KEYS.get(entity)
    if rules is None or frame.empty or not leftovers:
        return []
    side, rows = _relevant(frame, set(kept) | set(waiting) | set(leftovers))
    memo = KeyValues(side) if values is None else RowsOf(side, values, rows)
    _rank(side, memo(rules.keys[0].values), set(kept), set(waiting), set(leftovers))
    left = side["left"].to_numpy()
    rank = side["rank"].to_numpy()
    identity = {name: (memo.codes(of), memo.codes(of)) for name, of in rules.identities}
    if context is None or context.empty:
        context_values = None
    elif context_values is None:
        context_values = KeyValues(context)
    shared = _shared_rows(rules, memo, context_values)
    found: dict[str, Duplicate] = {}
    for key in rules.keys:
        codes = memo.codes(key.values)
        if key.name in shared:
            codes = np.where(shared[key.name], -1, codes)  # a shared value says nothing
        pairs = same_code_pairs(codes, identity if key.weak else {})
        pairs = without_told_apart(pairs, side["id"], set(told_apart))
        a, b = pairs["a"].to_numpy(dtype="int64"), pairs["b"].to_numpy(dtype="int64")
        keep = left[a] & (rank[b] < rank[a])
        a, b = a[keep], b[keep]
        if not len(a):
            continue
        order = np.lexsort((rank[b], a))  # by row, its better-ranked records best first
        a, b = a[order], b[order]
        ids = side["id"].to_numpy()
        starts = np.flatnonzero(np.diff(a, prepend=-1))  # where each row's group starts
        for row, group in zip(a[starts].tolist(), np.split(b, starts[1:]), strict=True):
            record_id = str(ids[row])
            if record_id not in found:
                others = tuple(str(i) for i in ids[group].tolist())
                found[record_id] = Duplicate(record_id, others, key.name)
    return sorted(found.values(), key=lambda d: d.record_id)


def _relevant(frame: pd.DataFrame, ids: set[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of ``frame`` with these ids (the id as text), and their positions in it."""
    side = frame.assign(id=frame["id"].astype(str))
    relevant = _among(side["id"], ids)
    # (the plan hands over only relevant rows: no copy of them then)
    side = (side if relevant.all() else side[relevant]).reset_index(drop=True)
    side.attrs.update(frame.attrs)
    return side, np.flatnonzero(relevant)


def _rank(
    side: pd.DataFrame, strongest: pd.Series, kept: set[str], waiting: set[str], left: set[str]
) -> None:
    """Add the ``left`` (may be held back) and ``rank`` (0 = best) columns; ``strongest`` are
    the rows' values of the strongest key."""
    is_kept = _among(side["id"], kept)
    is_waiting = _among(side["id"], waiting) & ~is_kept
    side["left"] = ~is_kept & ~is_waiting & _among(side["id"], left)
    has_key = strongest.notna().to_numpy()
    tier = np.where(is_kept, 0, np.where(has_key, 1, np.where(is_waiting, 2, 3)))
    # By tier, then id (a stable sort, as a sort by both columns)
    order = np.lexsort((side["id"].to_numpy(dtype=object), tier))
    rank = np.empty(len(side), dtype=np.int64)
    rank[order] = np.arange(len(side))
    side["rank"] = rank


def _among(ids: pd.Series, wanted: set[str]) -> np.ndarray:
    """True where the id (text) is one of ``wanted``: a set lookup per id, cheaper than
    ``isin`` hashing ``wanted`` again for every call."""
    values = ids.tolist()
    return np.fromiter(map(wanted.__contains__, values), dtype=bool, count=len(values))


def _shared_rows(
    rules: KeyRules, side: KeyValues, context: KeyValues | None
) -> dict[str, np.ndarray]:
    """Rows of ``side`` whose value of the shared-prone key is carried by records (of
    ``side`` or ``context``) with two or more identity values."""
    if rules.shared is None:
        return {}
    key_name, identity_name = rules.shared
    key_of = next(key.values for key in rules.keys if key.name == key_name)
    identity_of = dict(rules.identities)[identity_name]
    if context is None:
        keys, identities = side.codes(key_of), side.codes(identity_of)
    else:
        keys = np.concatenate(joint_codes(side, context, key_of))
        identities = np.concatenate(joint_codes(side, context, identity_of))
    own = keys[: len(side.frame)]
    both = (keys >= 0) & (identities >= 0)
    if not both.any():
        return {key_name: np.zeros(len(own), dtype=bool)}
    # The distinct (key, identity) combinations, then how many identities each key has
    width = int(identities.max()) + 1
    combined = pd.unique(keys[both].astype(np.int64) * width + identities[both])
    carriers = np.bincount(combined // width, minlength=int(keys.max()) + 1)
    return {key_name: (own >= 0) & (carriers[own] >= 2)}
