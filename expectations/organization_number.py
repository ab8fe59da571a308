"""A Great Expectations expectation for Norwegian organisation numbers (mod-11 check digit).

GX has no checksum expectation, and ``UnexpectedRowsExpectation`` only runs SQL, not pandas.
A small ``ColumnMapExpectation`` keeps the rule *inside* GX: it is named in the JSON suite like
any built-in type, runs per row, skips nulls ("when present"), and reports the failing rows'
ids through ``unexpected_index_list`` like every other column-map expectation. A precomputed
boolean column would do the same job but moves the rule out of the suite and into the loader.

Importing this module registers both the metric and the expectation type
``expect_column_values_to_be_valid_organization_number``; ``expectations.runner`` does so
before it loads any suite. GX itself is imported through :mod:`expectations.gx` first.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from expectations.gx import import_great_expectations
from sync.normalize import ORG_NUMBER_WEIGHTS, is_valid_org_number

import_great_expectations()  # before the GX imports below (it defers what our suites never run)

from great_expectations.execution_engine import PandasExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import ColumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics.map_metric_provider import (  # noqa: E402
    ColumnMapMetricProvider,
    column_condition_partial,
)


def is_valid_organization_number(value: object) -> bool:
    """True when ``value`` is 9 digits whose last digit is the mod-11 check digit."""
    return isinstance(value, str) and is_valid_org_number(value)


def valid_organization_numbers(values: pd.Series) -> pd.Series:
    """Vectorised ``is_valid_organization_number`` over a Series (≈3x faster than .map)."""
    text = values.astype(object).map(lambda v: v if isinstance(v, str) else "")
    shaped = text.str.fullmatch(r"[0-9]{9}").fillna(False).astype(bool)
    valid = pd.Series(False, index=values.index, dtype=bool)
    if shaped.any():
        raw = "".join(text[shaped]).encode("ascii")
        digits = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 9).astype(np.int64) - ord("0")
        check = (11 - (digits[:, :8] @ np.array(ORG_NUMBER_WEIGHTS)) % 11) % 11  # 11 -> 0; 10 stays
        valid[shaped] = (check != 10) & (check == digits[:, 8])
    return valid


class ColumnValuesValidOrganizationNumber(ColumnMapMetricProvider):
    """Metric: which values are valid Norwegian organisation numbers."""

    condition_metric_name = "column_values.valid_organization_number"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        return valid_organization_numbers(column)


class ExpectColumnValuesToBeValidOrganizationNumber(ColumnMapExpectation):
    """Expect column values to be 9-digit organisation numbers with a valid mod-11 check digit."""

    map_metric: ClassVar[str] = "column_values.valid_organization_number"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    args_keys: ClassVar[tuple[str, ...]] = ("column",)
    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "experimental",
        "tags": ["norway", "checksum"],
        "contributors": ["svenn-tripletex-sync"],
    }
