"""Validation after the initial sync: every record linked exactly once or logged as failed.

Runs the ``links_after_sync`` suite over the stored links and both sides' records (as read at
the start plus what the run created, as the target systems returned them), and checks coverage:
a record that is neither linked nor in the failed-record log would be silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.frames import link_rows_of, links_frame
from expectations.runner import SuiteOutcome, validate_frame
from store.failures import open_failure_columns
from store.links import link_ids
from store.state import StateStore
from sync.plan import PlannedFailure, failure_for
from sync.records import SYNC_ORDER, Direction, Entity, Record
from sync.rules import ReasonCode
from tasks.extract import expectation_failure


@dataclass
class Verification:
    """What the checks after the sync found."""

    failures: list[PlannedFailure] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)
    checked_links: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is unaccounted for and every link is sound."""
        return not self.failures


@task(name="verify-after-sync", cache_policy=NO_CACHE)
def verify_after_sync(
    store: StateStore,
    tenant: str,
    tripletex: Mapping[Entity, Sequence[Record]],
    svenn: Mapping[Entity, Sequence[Record]],
) -> Verification:
    """Check links with Great Expectations and account for every record on both sides."""
    result = Verification()
    with store.sessions() as session:
        failed = {
            (row.entity, row.record_key)
            for row in open_failure_columns(session, tenant, "entity", "record_key")
        }
        links = {e: link_ids(session, tenant, e.value) for e in SYNC_ORDER}
    tripletex_by_id = {e: {str(r.id): r for r in tripletex.get(e, [])} for e in SYNC_ORDER}
    svenn_by_id = {e: {str(r.id): r for r in svenn.get(e, [])} for e in SYNC_ORDER}
    outcome = _links_outcome(links, tripletex_by_id, svenn_by_id)
    for entity in SYNC_ORDER:
        result.checked_links += len(links[entity])
        if links[entity]:
            part = outcome.part(link_rows_of(entity), len(links[entity]))
            _report_links(entity, part, tripletex_by_id[entity], svenn_by_id[entity], result)
        _check_coverage(
            entity, links[entity], tripletex_by_id[entity], svenn_by_id[entity], failed, result
        )
    return result


def _links_outcome(
    links: Mapping[Entity, Sequence[tuple[str, str, str | None]]],
    tripletex: Mapping[Entity, Mapping[str, Record]],
    svenn: Mapping[Entity, Mapping[str, Record]],
) -> SuiteOutcome:
    """The links suite over every entity's links in one frame: one to one within an entity,
    and the key fields agree across each link. Links are (Svenn id, Tripletex id, match key);
    a row's id is ``entity:svenn_id:tripletex_id``."""
    frames = [
        links_frame(entity, links[entity], svenn[entity], tripletex[entity])
        for entity in SYNC_ORDER
        if links[entity]
    ]
    if not frames:
        return SuiteOutcome(success=True, evaluated=0, suite_name="links_after_sync")
    return validate_frame("links_after_sync", pd.concat(frames, ignore_index=True))


def _report_links(
    entity: Entity,
    outcome: SuiteOutcome,
    tripletex: Mapping[str, Record],
    svenn: Mapping[str, Record],
    result: Verification,
) -> None:
    """One entity's part of the links suite: its summary, and a failed record per bad link."""
    result.markdown.append(f"### {entity.value}\n" + outcome.to_markdown())
    for row_id, problems in outcome.failed_rows.items():
        _, svenn_id, tripletex_id = row_id.split(":", 2)
        from_tripletex = tripletex_id in tripletex
        record = tripletex[tripletex_id] if from_tripletex else svenn.get(svenn_id)
        if record is None:
            continue
        direction = Direction.TRIPLETEX_TO_SVENN if from_tripletex else Direction.SVENN_TO_TRIPLETEX
        result.failures.append(expectation_failure(record, direction, problems))


def _check_coverage(
    entity: Entity,
    links: Sequence[tuple[str, str, str | None]],
    tripletex: Mapping[str, Record],
    svenn: Mapping[str, Record],
    failed: set[tuple[str, str]],
    result: Verification,
) -> None:
    """Every record on both sides is linked or has an open failed record: nothing is dropped."""
    linked = {
        "tripletex": {tripletex_id for _, tripletex_id, _ in links},
        "svenn": {svenn_id for svenn_id, _, _ in links},
    }
    for side, records in (("tripletex", tripletex), ("svenn", svenn)):
        direction = Direction.leaving(side)
        for record_id, record in records.items():
            if record_id in linked[side] or (entity.value, f"{side}:{record_id}") in failed:
                continue
            result.failures.append(
                failure_for(
                    record,
                    direction,
                    ReasonCode.EXPECTATION_FAILED,
                    detail=f"{side} record {record_id} is neither linked nor logged as failed",
                    detail_no=f"{side}-oppføringen {record_id} er verken koblet eller logget",
                )
            )
