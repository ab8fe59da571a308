"""Extract both sides and check the extracts with Great Expectations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from connectors.svenn.client import SvennClient
from connectors.together import together
from connectors.tripletex.client import TripletexClient
from expectations.frames import ROW_COLUMN, side_row, sides_frame
from expectations.runner import ExpectationFailure, prepare_in_background, validate_frame
from sync.decisions import NO_DECISIONS, Decisions
from sync.entities import SUITES
from sync.malformed import MalformedRecord, malformed_failure
from sync.plan import PlannedFailure, failure_for
from sync.records import SYNC_ORDER, Direction, Entity, Record, System
from sync.rules import ReasonCode

T = TypeVar("T")


def unwalked(value: T) -> T:
    """``value`` as a task argument Prefect hands over as it is, without walking into it.

    Prefect walks every task argument twice, element by element, looking for futures and
    upstream runs (``quote`` turns that off); for the extracts of a tenant with 10,000
    customers a side that was more than half of the initial sync's CPU. Pass records this way."""
    return cast(T, quote(value))


@dataclass
class Extracts:
    """Both systems' records, per entity, as read at the start of a run."""

    tripletex: dict[Entity, list[Record]] = field(default_factory=dict)
    svenn: dict[Entity, list[Record]] = field(default_factory=dict)
    tripletex_employee_id: str | None = None
    tripletex_project_managers: set[str] = field(default_factory=set)
    # Records either side sent that could not be read: each becomes a failed record.
    malformed: list[MalformedRecord] = field(default_factory=list)

    def side(self, system: System) -> dict[Entity, list[Record]]:
        """One system's records."""
        return self.tripletex if system is System.TRIPLETEX else self.svenn

    def stand_ins(self, entity: Entity) -> dict[str, list[Record]]:
        """Per side, what could be read of ``entity``'s malformed records (for matching only)."""
        return {
            system.value: [
                m.stand_in
                for m in self.malformed
                if m.entity is entity and m.system is system and m.stand_in is not None
            ]
            for system in System
        }

    def total(self) -> int:
        """Records read on both sides (those that could not be read included)."""
        read = sum(len(r) for side in (self.tripletex, self.svenn) for r in side.values())
        return read + len(self.malformed)

    def counts(self) -> dict[str, dict[str, int]]:
        """Records read, per system and entity."""
        return {
            system.value: {e.value: len(rs) for e, rs in self.side(system).items()}
            for system in System
        }


async def _read_tripletex(
    tripletex: TripletexClient,
) -> tuple[dict[Entity, list[Record]], str, set[str], list[MalformedRecord]]:
    found, me, managers = await together(
        together(*(tripletex.list(entity) for entity in SYNC_ORDER)),  # inactive too
        tripletex.who_am_i(),
        tripletex.list_project_manager_ids(),
    )
    side: dict[Entity, list[Record]] = {e: list(f) for e, f in zip(SYNC_ORDER, found, strict=True)}
    malformed = [bad for records in found for bad in records.malformed]
    return side, str(me.employee_id), managers, malformed


async def _read_svenn(
    svenn: SvennClient,
) -> tuple[dict[Entity, list[Record]], list[MalformedRecord]]:
    found = await together(*(svenn.list(entity) for entity in SYNC_ORDER))
    side: dict[Entity, list[Record]] = {e: list(f) for e, f in zip(SYNC_ORDER, found, strict=True)}
    return side, [bad for records in found for bad in records.malformed]


@task(name="extract-both-sides", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
async def extract_both_sides(tripletex: TripletexClient, svenn: SvennClient) -> Extracts:
    """Read every customer, employee and project on both sides, concurrently.

    The extract checks follow every extract: GX starts loading for them meanwhile, on a thread.
    """
    prepare_in_background(SUITES.values())
    (tripletex_side, employee_id, managers, tx_bad), (svenn_side, sv_bad) = await together(
        _read_tripletex(tripletex), _read_svenn(svenn)
    )
    return Extracts(
        tripletex=tripletex_side,
        svenn=svenn_side,
        tripletex_employee_id=employee_id,
        tripletex_project_managers=managers,
        malformed=tx_bad + sv_bad,
    )


Excluded = dict[Entity, list[PlannedFailure]]


@task(name="check-extracts", cache_policy=NO_CACHE)
def check_extracts(
    extracts: Extracts, decisions: Mapping[Entity, Decisions] | None = None
) -> Excluded:
    """Run the extract suites; each row that fails becomes a planned failure, the rest go on.

    Records that could not be read at all are failures too (``MALFORMED_RECORD``). Records a
    person confirmed as duplicates (``decisions``) sit out of the sync and of the checks: the
    twin they share an e-mail or number with is then unique.
    """
    excluded: Excluded = {e: [] for e in SYNC_ORDER}
    for bad in extracts.malformed:
        excluded.setdefault(bad.entity, []).append(malformed_failure(bad))
    systems = (System.TRIPLETEX.value, System.SVENN.value)  # Tripletex's first, as read
    for entity in SYNC_ORDER:  # one suite run per entity, both systems' records in its frame
        decided = (decisions or {}).get(entity, NO_DECISIONS)
        sides = {system: _taking_part(extracts, entity, system, decided) for system in systems}
        if not any(sides.values()):
            continue
        outcome = validate_frame(SUITES[entity], sides_frame(sides), id_column=ROW_COLUMN)
        by_row = {side_row(s, r): (s, r) for s, records in sides.items() for r in records}
        found: dict[str, list[PlannedFailure]] = {system: [] for system in systems}
        for row, problems in outcome.failed_rows.items():
            if row in by_row:
                system, record = by_row[row]
                direction = Direction.leaving(system)
                found[system].append(expectation_failure(record, direction, problems))
        for failures in found.values():
            excluded[entity].extend(failures)
    return excluded


def _taking_part(
    extracts: Extracts, entity: Entity, system: str, decided: Decisions
) -> list[Record]:
    out = decided.leaves_out(system)
    return [r for r in extracts.side(System(system))[entity] if str(r.id) not in out]


def expectation_failure(
    record: Record, direction: Direction, problems: Sequence[ExpectationFailure]
) -> PlannedFailure:
    """A record that failed data checks, with every check's reason in English and Norwegian."""
    return failure_for(
        record,
        direction,
        ReasonCode.EXPECTATION_FAILED,
        details={"expectations": [p.expectation_type for p in problems]},
        detail="; ".join(p.description for p in problems),
        detail_no="; ".join(p.description_no for p in problems),
    )
