"""Load the JSON suites and run them over DataFrames with an in-memory GX context.

``validate_frame`` returns a ``SuiteOutcome`` that names, per row id, the expectations the row
broke, so a task can turn each bad row into a failed-record row and let the others go on.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations.frames import SYSTEM_COLUMN, extract_frame, links_frame
from expectations.gx import import_great_expectations

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

# GX itself is imported on first use, once per process (``expectations.gx``): importing it
# costs seconds, which modules that only import this one for its types or frames should not pay.
# A task that reads before it checks starts that import early on a thread
# (:func:`prepare_in_background`), so the import runs while the reads wait on the network.

__all__ = [
    "MISSING_ID",
    "SUITES_DIR",
    "ExpectationFailure",
    "SuiteLoadError",
    "SuiteOutcome",
    "extract_frame",
    "links_frame",
    "load_suite",
    "prepare_in_background",
    "validate_frame",
]

SUITES_DIR = Path(__file__).parent / "suites"
MISSING_ID = "<missing id>"  # failed_rows key for rows whose id is null
_MARKDOWN_IDS = 10  # ids listed per failed expectation in the markdown summary


class SuiteLoadError(ValueError):
    """A suite file is missing, unreadable, or GX could not load every expectation in it."""


@dataclass(frozen=True)
class ExpectationFailure:
    """One expectation that failed: its GX type, the column(s) it checks, a human reason."""

    expectation_type: str
    column: str | None
    description: str
    description_no: str = ""  # for the tenant's log (the suite's ``meta.description_no``)


@dataclass
class SuiteOutcome:
    """What one suite found in one frame."""

    success: bool
    evaluated: int
    failed_expectations: list[ExpectationFailure] = field(default_factory=list)
    # row id -> the expectations that row broke (rows with a null id under MISSING_ID)
    failed_rows: dict[str, list[ExpectationFailure]] = field(default_factory=dict)
    suite_name: str = ""
    row_count: int = 0

    def part(self, keep: Callable[[str], bool], row_count: int) -> SuiteOutcome:
        """What the suite found in the rows whose id ``keep`` accepts, as if they had been
        validated alone (one frame holds several parts: one GX run instead of one per part).

        Only for suites whose checks each look at one row, or group rows within one part
        (e.g. unique within an entity): a row then fails in the whole frame exactly when it
        fails in its part. A failure without rows (a check that could not run) is every part's.
        """
        rows = {row: found for row, found in self.failed_rows.items() if keep(row)}
        with_rows = {f for found in self.failed_rows.values() for f in found}
        here = {f for found in rows.values() for f in found}
        failed = [f for f in self.failed_expectations if f in here or f not in with_rows]
        return SuiteOutcome(
            success=not failed,
            evaluated=self.evaluated,
            failed_expectations=failed,
            failed_rows=rows,
            suite_name=self.suite_name,
            row_count=row_count,
        )

    def to_markdown(self) -> str:
        """A short summary for a Prefect markdown artifact."""
        head = f"**{self.suite_name}** over {self.row_count} rows: "
        if self.success:
            return head + f"passed all {self.evaluated} expectations."
        lines = [
            head + f"{len(self.failed_expectations)} of {self.evaluated} expectations failed, "
            f"{len(self.failed_rows)} rows flagged.",
            "",
            "| Check | Column | Rows | Ids |",
            "|---|---|---|---|",
        ]
        for failure in self.failed_expectations:
            ids = [i for i, fs in self.failed_rows.items() if failure in fs]
            shown = ", ".join(ids[:_MARKDOWN_IDS]) + (", …" if len(ids) > _MARKDOWN_IDS else "")
            cells = [failure.description, failure.column or "", str(len(ids)), shown]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return "\n".join(lines)


def load_suite(name: str, *, directory: Path = SUITES_DIR) -> ExpectationSuite:
    """Read ``<directory>/<name>.json``; refuse it unless GX loaded every expectation in it."""
    import_great_expectations()
    from great_expectations import ExpectationSuite

    # Registers expect_column_values_to_be_valid_organization_number with GX.
    from expectations import organization_number  # noqa: F401

    path = directory / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteLoadError(f"cannot read expectation suite {name!r} from {path}: {exc}") from exc
    entries = raw.get("expectations", [])
    # GX logs and drops an expectation it cannot build (e.g. a typo in its type): count them.
    suite = ExpectationSuite(name=raw.get("name", name), expectations=entries, meta=raw.get("meta"))
    if len(suite.expectations) != len(entries):
        wanted = Counter(str(e.get("type")) for e in entries)
        loaded = Counter(e.expectation_type for e in suite.expectations)
        dropped = sorted((wanted - loaded).elements())
        raise SuiteLoadError(
            f"suite {name!r}: GX loaded {len(suite.expectations)} of {len(entries)} "
            f"expectations; not loaded: {', '.join(dropped) or '?'}"
        )
    return suite


def validate_frame(suite_name: str, frame: pd.DataFrame, *, id_column: str = "id") -> SuiteOutcome:
    """Run suite ``suite_name`` over ``frame``; failed rows are keyed by ``id_column``."""
    if id_column not in frame.columns:
        raise ValueError(f"frame has no id column {id_column!r} to report failed rows by")
    result_format: dict[str, Any] = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [id_column],
        "partial_unexpected_count": 0,
    }
    with _GX_LOCK:  # GX contexts are not documented as thread-safe; Prefect may use threads
        suite = _cached_suite(suite_name)  # under the lock: it may be loading on a thread
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=result_format)
    outcome = SuiteOutcome(
        success=bool(result.success),
        evaluated=len(result.results),
        suite_name=suite_name,
        row_count=len(frame),
    )
    for expectation_result in result.results:
        if not expectation_result.success:
            _record_failure(outcome, expectation_result, id_column)
    return outcome


def _record_failure(outcome: SuiteOutcome, expectation_result: Any, id_column: str) -> None:
    config = expectation_result.expectation_config
    description = config.description or config.type
    error = _exception_message(expectation_result.exception_info)
    if error:
        description = f"{description} (could not run: {error})"
    description_no = (config.meta or {}).get("description_no") or description
    failure = ExpectationFailure(
        config.type, _column_of(config.kwargs), description, str(description_no)
    )
    outcome.failed_expectations.append(failure)
    for index in expectation_result.result.get("unexpected_index_list") or []:
        rows = outcome.failed_rows.setdefault(_row_key(index.get(id_column)), [])
        if failure not in rows:
            rows.append(failure)


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    # Several metrics may have failed: GX then keys the infos by metric.
    for nested in info.values():
        message = _exception_message(nested)
        if message:
            return message
    return None


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if "column_list" in kwargs:  # ``system`` only scopes a check to one system's records
        return ", ".join(str(c) for c in kwargs["column_list"] if c != SYSTEM_COLUMN)
    return None


def _row_key(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_ID
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_GX_LOCK = threading.Lock()
_STARTING = threading.Lock()
_PREPARING: list[threading.Thread] = []  # the one background preparation of this process


def prepare_in_background(suite_names: Iterable[str]) -> None:
    """Import GX, build its context and load ``suite_names`` on a daemon thread (once per
    process; later calls do nothing), so that a flow that reads both sides and then checks
    them finds GX ready: the import runs while the reads wait on the network.

    :func:`validate_frame` waits for the preparation if it is still running. A preparation
    that fails is forgotten: the check that needs GX fails the same way, where it always has.
    """
    with _STARTING:
        if _PREPARING:
            return
        names = tuple(suite_names)
        thread = threading.Thread(target=_prepare, args=(names,), name="gx-prepare", daemon=True)
        _PREPARING.append(thread)
    thread.start()


def _prepare(suite_names: tuple[str, ...]) -> None:
    try:
        with _GX_LOCK:
            _batch_definition()
            for name in suite_names:
                _cached_suite(name)
    except Exception:  # validate_frame raises it again, where it is handled
        logging.getLogger(__name__).debug("preparing GX in the background failed", exc_info=True)


@functools.cache
def _cached_suite(name: str) -> ExpectationSuite:
    return load_suite(name)


@functools.cache
def _batch_definition() -> Any:
    """One ephemeral context per process, one pandas asset whose batch is the frame given."""
    gx = import_great_expectations()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX announces the temporary docs directory of an ephemeral context at INFO (its module
    # logger sets its own level, so the parent's does not reach it): noise in every log.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    # GX marks each pandas batch under 1 GB with a fingerprint of the whole frame (an MD5 over
    # pandas' hash of every row), which nothing of ours reads: each frame is validated once and
    # never looked up again. It was ≈0.5 s of CPU over the 30 frames an activation and initial
    # sync of 10,000 customers a side check; GX hashes only frames below this size.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("extracts").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")
