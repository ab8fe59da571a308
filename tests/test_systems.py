"""The two systems and the ways a record travels between them."""

from __future__ import annotations

import pytest

from sync.records import Direction, System


@pytest.mark.parametrize(
    ("system", "other", "leaving"),
    [
        ("svenn", System.TRIPLETEX, Direction.SVENN_TO_TRIPLETEX),
        ("tripletex", System.SVENN, Direction.TRIPLETEX_TO_SVENN),
    ],
)
def test_a_record_leaves_its_own_system_for_the_other(system, other, leaving):
    assert System(system).other is other
    assert Direction.leaving(system) is leaving
    assert Direction.leaving(System(system)) is leaving
    assert leaving.source is System(system)


def test_an_unknown_system_is_refused():
    with pytest.raises(ValueError, match="hours"):
        Direction.leaving("hours")
