"""Validation after the initial sync: every record linked exactly once or logged as failed.

Runs the ``links_after_sync`` suite over the stored links and both sides' records (as read at
the start plus what the run created, as the target systems returned them), and checks coverage:
a record that is neither linked nor in the failed-record log would be silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.frames import links_frame
from expectations.runner import validate_frame
from store.failures import open_failures
from store.links import links_for
from store.state import StateStore
from sync.plan import PlannedFailure, failure_for
from sync.records import SYNC_ORDER, Direction, Entity, Record
from sync.rules import ReasonCode


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
        failed = {(row.entity, row.record_key) for row in open_failures(session, tenant)}
        links = {e: links_for(session, tenant, e.value) for e in SYNC_ORDER}
    for entity in SYNC_ORDER:
        tx = {str(r.id): r for r in tripletex.get(entity, [])}
        sv = {str(r.id): r for r in svenn.get(entity, [])}
        pairs = [(link.svenn_id, link.tripletex_id, link.match_key) for link in links[entity]]
        result.checked_links += len(pairs)
        if pairs:
            outcome = validate_frame("links_after_sync", links_frame(entity, pairs, sv, tx))
            result.markdown.append(f"### {entity.value}\n" + outcome.to_markdown())
            for row_id, problems in outcome.failed_rows.items():
                _, svenn_id, tripletex_id = row_id.split(":", 2)
                record = tx.get(tripletex_id) or sv.get(svenn_id)
                if record is None:
                    continue
                result.failures.append(
                    failure_for(
                        record,
                        Direction.TRIPLETEX_TO_SVENN
                        if record.id in tx
                        else Direction.SVENN_TO_TRIPLETEX,
                        ReasonCode.EXPECTATION_FAILED,
                        detail="; ".join(p.description for p in problems),
                        detail_no="; ".join(p.description_no for p in problems),
                    )
                )
        linked_tx = {link.tripletex_id for link in links[entity]}
        linked_sv = {link.svenn_id for link in links[entity]}
        for side, records, linked, direction in (
            ("tripletex", tx, linked_tx, Direction.TRIPLETEX_TO_SVENN),
            ("svenn", sv, linked_sv, Direction.SVENN_TO_TRIPLETEX),
        ):
            for record_id, record in records.items():
                if record_id in linked or (entity.value, f"{side}:{record_id}") in failed:
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
    return result
