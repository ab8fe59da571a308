"""How a sync did against a generated world's ground truth (``World.origin``).

Every record the generator made is a copy of one real-world thing ("customer:17"); a record a
sync creates is a copy of what its link partner is. From the links, the records on each side
after the sync and the failed records, :func:`judge` counts what issue 11 asks of matching:

- false merges: links that join copies of two different things;
- duplicates created: a thing more times on a side than before the sync (or more than once
  where it was absent);
- things on both sides, and things missing from a side although none of their records was held
  back (every thing the rules allow must end up on both sides);
- records neither linked nor held back with a failed record (unaccounted);
- held-back records by reason code.

:func:`judge_plan` does the same for a plan applied purely (creates become "new:<id>" copies).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sandboxes.datagen import World
from sync.plan import SyncPlan
from sync.records import SYNC_ORDER, Entity

SIDES = ("tripletex", "svenn")


@dataclass
class SyncOutcome:
    """The counts, with the offending ids/keys so a failing test can say which."""

    false_merges: list[tuple[str, str]] = field(default_factory=list)
    duplicates_created: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)  # records after the sync of no origin
    things: int = 0
    on_both_sides: int = 0
    held_back: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """The counts as a person reads them."""
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(self.held_back.items()))
        return [
            f"false merges: {len(self.false_merges)}",
            f"duplicates created: {len(self.duplicates_created)}",
            f"things on both sides: {self.on_both_sides} of {self.things}"
            f" (missing without a held-back record: {len(self.missing)})",
            f"records unaccounted for: {len(self.unaccounted)}",
            f"held back: {sum(self.held_back.values())} ({reasons or 'none'})",
        ]


def judge(
    world: World,
    *,
    links: Iterable[tuple[str, str]],
    present: Mapping[str, Iterable[str]],
    failed: Iterable[tuple[str, str, str]],
) -> SyncOutcome:
    """``links``: (Tripletex id, Svenn id) of every entity; ``present``: side → ids of the
    judged entities after the sync; ``failed``: (side, id, reason code) of failed records."""
    origin = dict(world.origin)
    outcome = SyncOutcome()
    linked: set[str] = set()
    for t_id, s_id in links:
        t_key, s_key = f"tripletex:{t_id}", f"svenn:{s_id}"
        linked |= {t_key, s_key}
        t_thing, s_thing = origin.get(t_key), origin.get(s_key)
        if t_thing and s_thing and t_thing != s_thing:
            outcome.false_merges.append((t_id, s_id))
        elif t_thing or s_thing:
            origin[t_key] = origin[s_key] = str(t_thing or s_thing)
    held: set[str] = set()
    failed_keys: set[str] = set()
    for side, record_id, reason in failed:
        key = f"{side}:{record_id}"
        failed_keys.add(key)
        outcome.held_back[reason] += 1
        if key in origin:
            held.add(origin[key])
    before = {side: Counter[str]() for side in SIDES}
    for key, thing in world.origin.items():
        before[key.split(":", 1)[0]][thing] += 1
        if key not in linked and key not in failed_keys:
            outcome.unaccounted.append(key)
    after = {side: Counter[str]() for side in SIDES}
    for side in SIDES:
        for record_id in present.get(side, ()):
            copy_of = origin.get(f"{side}:{record_id}")
            if copy_of is None:
                outcome.unexplained.append(f"{side}:{record_id}")
            else:
                after[side][copy_of] += 1
    things = set(world.origin.values())
    outcome.things = len(things)
    for thing in sorted(things):
        on_both = all(after[side][thing] >= 1 for side in SIDES)
        outcome.on_both_sides += on_both
        if not on_both and thing not in held:
            outcome.missing.append(thing)
        for side in SIDES:
            if after[side][thing] > max(before[side][thing], 1):
                outcome.duplicates_created.append(f"{side}:{thing}")
    return outcome


def judge_plan(
    world: World, plan: SyncPlan, entities: Iterable[Entity] = SYNC_ORDER
) -> SyncOutcome:
    """Judge a plan of a first sync of ``world`` as if it were applied: each record to create
    becomes a copy "new:<id>" on the other side, linked to its source."""
    links: list[tuple[str, str]] = []
    present: dict[str, list[str]] = {side: [] for side in SIDES}
    failed: list[tuple[str, str, str]] = []
    for entity in entities:
        entity_plan = plan.entities[entity]
        links += [(lk.tripletex_id, lk.svenn_id) for lk in entity_plan.links]
        links += [(str(r.id), f"new:{r.id}") for r in entity_plan.create_in_svenn]
        links += [(f"new:{r.id}", str(r.id)) for r in entity_plan.create_in_tripletex]
        present["svenn"] += [f"new:{r.id}" for r in entity_plan.create_in_svenn]
        present["tripletex"] += [f"new:{r.id}" for r in entity_plan.create_in_tripletex]
        for f in entity_plan.failures:
            side = "svenn" if f.svenn_id else "tripletex"
            failed.append((side, str(f.svenn_id or f.tripletex_id), f.reason_code))
    wanted = {entity.value for entity in entities}
    for key in world.origin:
        if world.origin[key].split(":", 1)[0] in wanted:
            side, record_id = key.split(":", 1)
            present[side].append(record_id)
    return judge(_only(world, wanted), links=links, present=present, failed=failed)


def _only(world: World, entities: set[str]) -> World:
    """The world with its ground truth narrowed to some entities."""
    origin = {k: v for k, v in world.origin.items() if v.split(":", 1)[0] in entities}
    return World(world.tripletex, world.svenn, world.truth, world.ambiguous, origin, world.shapes)
