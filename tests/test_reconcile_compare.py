"""The reconciliation's comparison of linked pairs (pure, plain data)."""

from __future__ import annotations

from sync.entities import Customer
from sync.reconcile import DriftKind, StoredLink, compare_linked
from sync.records import Entity

SV = Customer(id="s1", name="Bygg AS", email="post@bygg.no", phone="22 33 44 55")
TX = Customer(id="t1", name="Bygg AS", email="post@bygg.no", phone="22334455")


def agreed(sv: Customer = SV, tx: Customer = TX) -> StoredLink:
    """A link stored when both sides looked like ``sv`` and ``tx``."""
    return StoredLink("s1", "t1", sv.fingerprint(), tx.fingerprint(), tx.synced_fields())


def compare(link: StoredLink, sv: Customer | None, tx: Customer | None):
    return compare_linked(
        Entity.CUSTOMER, [link], {"s1": sv} if sv else {}, {"t1": tx} if tx else {}
    )


def test_a_pair_unchanged_since_it_was_linked_is_no_drift():
    assert compare(agreed(), SV, TX) == []


def test_a_pair_linked_with_different_spellings_is_not_rewritten_while_unchanged():
    messy = SV.model_copy(update={"name": "BYGG A/S"})
    assert compare(agreed(sv=messy), messy, TX) == []


def test_an_edit_in_svenn_is_written_to_tripletex_only():
    edited = SV.model_copy(update={"name": "Bygg og Anlegg AS"})
    [drift] = compare(agreed(), edited, TX)
    assert drift.kind is DriftKind.EDITED_IN_SVENN
    assert drift.decision is not None
    assert drift.decision.to_tripletex == {"name": "Bygg og Anlegg AS"}
    assert drift.decision.to_svenn == {}
    assert drift.fields == ["name"]


def test_an_edit_in_tripletex_is_written_to_svenn_only():
    edited = TX.model_copy(update={"email": "faktura@bygg.no"})
    [drift] = compare(agreed(), SV, edited)
    assert drift.kind is DriftKind.EDITED_IN_TRIPLETEX
    assert drift.decision is not None and drift.decision.to_svenn == {"email": "faktura@bygg.no"}


def test_the_same_field_edited_on_both_sides_follows_the_precedence_rule():
    sv = SV.model_copy(update={"name": "Svenn-navn AS"})
    tx = TX.model_copy(update={"name": "Tripletex-navn AS"})
    [drift] = compare(agreed(), sv, tx)
    assert drift.kind is DriftKind.EDITED_ON_BOTH
    assert drift.decision is not None
    assert drift.decision.merged["name"] == "Tripletex-navn AS"  # accounting owns customers
    assert [c.field for c in drift.decision.conflicts] == ["name"]


def test_a_formatting_only_change_is_no_drift():
    reformatted = TX.model_copy(update={"phone": "+47 22 33 44 55"})
    assert compare(agreed(), SV, reformatted) == []


def test_a_record_gone_from_one_side_is_reported_without_a_repair():
    [drift] = compare(agreed(), None, TX)
    assert drift.kind is DriftKind.GONE_FROM_SVENN and drift.decision is None
    [drift] = compare(agreed(), SV, None)
    assert drift.kind is DriftKind.GONE_FROM_TRIPLETEX
