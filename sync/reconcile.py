"""Nightly reconciliation's comparison of linked records (pure): what drifted, and the repair.

For each stored link the reconciliation has both sides' current records. A side whose
fingerprint still equals the one stored on the link has not changed since the two sides last
agreed; a side whose fingerprint differs was edited and the realtime path missed it (a lost
event, or an edit made while the integration was disabled). Such a pair is merged with the
realtime sync's own rules (:func:`sync.merge.merge_entity`), so the nightly repair and the
realtime path can never disagree. A pair where neither side changed is consistent by
definition: it is what the initial sync or the last realtime write agreed on, so a night over
consistent data writes nothing. A linked record that no longer exists on one side is reported
(deletes are the realtime path's business: the target may only be able to deactivate).

Records that no link covers (a lost answer to a create, a deleted link, a create nobody saw)
are not decided here: the initial-sync plan (:mod:`sync.plan`) links or creates them with the
same matching and rules as the initial sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sync.merge import MergeDecision, merge_entity
from sync.records import Entity, Record


class DriftKind(StrEnum):
    """How the two sides of one record (or pair) differ from what the store expects."""

    EDITED_IN_SVENN = "edited_in_svenn"
    EDITED_IN_TRIPLETEX = "edited_in_tripletex"
    EDITED_ON_BOTH = "edited_on_both"
    LINKED_DIFFERENT = "linked_different"  # matched while the two differed: aligned now
    GONE_FROM_SVENN = "gone_from_svenn"
    GONE_FROM_TRIPLETEX = "gone_from_tripletex"
    UNLINKED_PAIR = "unlinked_pair"  # both exist, no link: linked again
    ONLY_IN_SVENN = "only_in_svenn"  # created in Tripletex
    ONLY_IN_TRIPLETEX = "only_in_tripletex"  # created in Svenn


DRIFT_TEXT: dict[DriftKind, tuple[str, str]] = {
    DriftKind.EDITED_IN_SVENN: ("edited in Svenn, not synced", "endret i Svenn, ikke synkronisert"),
    DriftKind.EDITED_IN_TRIPLETEX: (
        "edited in Tripletex, not synced",
        "endret i Tripletex, ikke synkronisert",
    ),
    DriftKind.EDITED_ON_BOTH: ("edited on both sides", "endret på begge sider"),
    DriftKind.LINKED_DIFFERENT: (
        "linked while the two differed, now aligned",
        "koblet mens de var ulike, nå samstemt",
    ),
    DriftKind.GONE_FROM_SVENN: ("linked, but gone from Svenn", "koblet, men borte fra Svenn"),
    DriftKind.GONE_FROM_TRIPLETEX: (
        "linked, but gone from Tripletex",
        "koblet, men borte fra Tripletex",
    ),
    DriftKind.UNLINKED_PAIR: ("same record, link missing", "samme post, koblingen manglet"),
    DriftKind.ONLY_IN_SVENN: ("only in Svenn", "bare i Svenn"),
    DriftKind.ONLY_IN_TRIPLETEX: ("only in Tripletex", "bare i Tripletex"),
}
"""(English, Norwegian) for each kind of drift, as the report shows it."""


@dataclass(frozen=True)
class StoredLink:
    """What the store knows of one link: both ids, the fingerprints and the agreed base."""

    svenn_id: str
    tripletex_id: str
    svenn_fingerprint: str | None
    tripletex_fingerprint: str | None
    base_snapshot: Mapping[str, Any] | None

    @property
    def unagreed(self) -> bool:
        """Linked by a match while the two differed, and not aligned since (no fingerprints)."""
        return self.svenn_fingerprint is None and self.tripletex_fingerprint is None


@dataclass(frozen=True)
class LinkedDrift:
    """One linked pair that drifted, with the merge that repairs it (``None``: report only)."""

    entity: Entity
    kind: DriftKind
    svenn_id: str
    tripletex_id: str
    svenn: Record | None = None
    tripletex: Record | None = None
    decision: MergeDecision | None = None

    @property
    def fields(self) -> list[str]:
        """The fields the repair writes, on either side."""
        if self.decision is None:
            return []
        return sorted(set(self.decision.to_svenn) | set(self.decision.to_tripletex))


def compare_linked(
    entity: Entity,
    links: Iterable[StoredLink],
    svenn: Mapping[str, Record],
    tripletex: Mapping[str, Record],
) -> list[LinkedDrift]:
    """The linked pairs of one entity that drifted since the link last agreed, with repairs."""
    drifts: list[LinkedDrift] = []
    for link in links:
        svenn_record, tripletex_record = svenn.get(link.svenn_id), tripletex.get(link.tripletex_id)
        found = _drift(entity, link, svenn_record, tripletex_record)
        if found is not None:
            kind, decision = found
            drifts.append(
                LinkedDrift(
                    entity,
                    kind,
                    link.svenn_id,
                    link.tripletex_id,
                    svenn_record,
                    tripletex_record,
                    decision,
                )
            )
    return drifts


def _drift(
    entity: Entity,
    link: StoredLink,
    svenn_record: Record | None,
    tripletex_record: Record | None,
) -> tuple[DriftKind, MergeDecision | None] | None:
    """How one linked pair drifted, with its repair; None when it did not."""
    if svenn_record is None or tripletex_record is None:
        if svenn_record is None and tripletex_record is None:
            return None
        gone = DriftKind.GONE_FROM_SVENN if svenn_record is None else DriftKind.GONE_FROM_TRIPLETEX
        return gone, None
    if link.unagreed:  # no fingerprint stored: both sides count as changed, none is hashed
        svenn_changed = tripletex_changed = True
    else:
        svenn_changed = svenn_record.fingerprint() != link.svenn_fingerprint
        tripletex_changed = tripletex_record.fingerprint() != link.tripletex_fingerprint
    if not svenn_changed and not tripletex_changed:
        return None
    decision = merge_entity(
        entity,
        link.base_snapshot,
        svenn_record.synced_fields(),
        tripletex_record.synced_fields(),
        svenn_changed=svenn_changed,
        tripletex_changed=tripletex_changed,
    )
    if decision.writes_nothing and not decision.conflicts:
        return None  # a change that is no change (formatting), or already on both sides
    if link.unagreed:
        return DriftKind.LINKED_DIFFERENT, decision
    if svenn_changed and tripletex_changed:
        return DriftKind.EDITED_ON_BOTH, decision
    return (DriftKind.EDITED_IN_SVENN if svenn_changed else DriftKind.EDITED_IN_TRIPLETEX), decision


__all__ = [
    "DRIFT_TEXT",
    "DriftKind",
    "LinkedDrift",
    "StoredLink",
    "compare_linked",
]
