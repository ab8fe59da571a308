"""Time the GX layer over 100k customers: build the frame, validate clean and 1 %-bad data.

Run: .venv/bin/python bench/bench_expectations.py [rows]
"""

from __future__ import annotations

import random
import sys
import time

from expectations.runner import extract_frame, validate_frame
from sync.entities import Customer

_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def org_number(rng: random.Random) -> str:
    """A random 9-digit organisation number with a valid mod-11 check digit."""
    while True:
        body = f"{rng.randrange(80_000_000, 99_999_999):08d}"
        check = 11 - sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11
        if check != 10:
            return body + str(check % 11)


def customers(rows: int, bad_share: float, rng: random.Random) -> list[Customer]:
    out = []
    for i in range(rows):
        bad = rng.random() < bad_share
        out.append(
            Customer(
                id=str(i),
                name=f"Kunde {i} AS",
                organization_number=("12345678" if bad else org_number(rng)) if i % 3 else None,
                email=f"post{i}@kunde{i}.no" if not bad else f"post{i}@@kunde",
            )
        )
    return out


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn(*args)
    print(f"{label:<48} {time.perf_counter() - start:7.3f} s")
    return value


def main(rows: int) -> None:
    rng = random.Random(7)
    timed(
        "first GX call (import, context) on 10 rows",
        validate_frame,
        "customers_extract",
        extract_frame(customers(10, 0, rng)),
    )
    clean = timed(f"build {rows} Customer records", customers, rows, 0.0, rng)
    frame = timed("extract_frame", extract_frame, clean)
    outcome = timed(
        "validate_frame customers_extract (clean)", validate_frame, "customers_extract", frame
    )
    assert outcome.success, outcome.to_markdown()
    dirty = extract_frame(customers(rows, 0.01, rng))
    outcome = timed(
        "validate_frame customers_extract (1 % bad rows)",
        validate_frame,
        "customers_extract",
        dirty,
    )
    print(
        f"  -> {len(outcome.failed_rows)} rows flagged by "
        f"{len(outcome.failed_expectations)} expectations"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
