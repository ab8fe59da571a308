"""The Great Expectations layer: suites load whole, good data passes, each bad row is named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from expectations.frames import ROW_COLUMN, link_rows_of, sides_frame
from expectations.organization_number import (
    is_valid_organization_number,
    valid_organization_numbers,
)
from expectations.runner import (
    MISSING_ID,
    SUITES_DIR,
    SuiteLoadError,
    extract_frame,
    links_frame,
    load_suite,
    validate_frame,
)
from sync.entities import Customer, Employee
from sync.records import Entity
from tests.extract_cases import (
    ORG_A,
    ORG_B,
    ORG_C,
    customers_with_bad_ones,
    employees_with_bad_ones,
    good_customers,
    good_employees,
    numbered_projects,
)

UNIQUE = "expect_compound_columns_to_be_unique"  # unique within one system's records
NOT_NULL = "expect_column_values_to_not_be_null"
REGEX = "expect_column_values_to_match_regex"
ORG_CHECK = "expect_column_values_to_be_valid_organization_number"


def failed_types(outcome_rows: dict[str, list], row_id: str) -> set[str]:
    return {f.expectation_type for f in outcome_rows[row_id]}


@pytest.mark.parametrize(
    ("suite_name", "count"),
    [
        ("customers_extract", 6),
        ("employees_extract", 5),
        ("projects_extract", 4),
        ("links_after_sync", 8),
    ],
)
def test_every_expectation_in_each_suite_file_is_loaded(suite_name: str, count: int) -> None:
    in_file = json.loads((SUITES_DIR / f"{suite_name}.json").read_text())["expectations"]
    suite = load_suite(suite_name)
    assert len(in_file) == count
    assert len(suite.expectations) == count


def test_suite_with_a_typo_in_an_expectation_type_is_refused(tmp_path: Path) -> None:
    raw = json.loads((SUITES_DIR / "projects_extract.json").read_text())
    raw["expectations"][1]["type"] = "expect_column_values_to_be_uniqe"
    (tmp_path / "typo.json").write_text(json.dumps(raw))
    with pytest.raises(SuiteLoadError, match="expect_column_values_to_be_uniqe"):
        load_suite("typo", directory=tmp_path)


def test_missing_suite_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteLoadError, match="nope"):
        load_suite("nope", directory=tmp_path)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (ORG_A, True),
        (ORG_B, True),
        (ORG_C, True),
        ("974760672", False),  # wrong check digit
        ("97476067", False),  # 8 digits
        ("9747606730", False),  # 10 digits
        ("97476067a", False),
        ("974 760 673", False),  # must be normalised before it reaches the suite
        ("000000000", True),  # sum 0 → check 11 → 0
        ("100000000", False),  # sum 3 → check digit 8, not 0
        ("100000008", True),
        ("200000000", False),  # sum 6 → check 5
    ],
)
def test_organization_number_check_digit_is_mod_11(value: str, valid: bool) -> None:
    assert is_valid_organization_number(value) is valid
    # The vectorised form GX runs agrees with the scalar one.
    assert valid_organization_numbers(pd.Series([value, None])).tolist() == [valid, False]


def test_org_number_whose_check_digit_would_be_10_is_invalid() -> None:
    # 8 digits with weighted sum ≡ 1 (mod 11) need check digit 10, which does not exist.
    prefix = "00000300"  # 3 * 4 = 12 ≡ 1 (mod 11) → check 10
    assert not any(is_valid_organization_number(prefix + d) for d in "0123456789")


def test_good_customers_pass() -> None:
    outcome = validate_frame("customers_extract", extract_frame(good_customers()))
    assert outcome.success
    assert outcome.evaluated == 6
    assert outcome.failed_expectations == []
    assert outcome.failed_rows == {}


def test_a_frame_is_validated_without_gx_fingerprinting_it_whole(monkeypatch) -> None:
    validate_frame("customers_extract", extract_frame(good_customers()))  # GX set up
    from great_expectations.execution_engine import pandas_execution_engine

    def fingerprint(frame: pd.DataFrame) -> str:
        raise AssertionError("GX hashed the whole frame to mark its batch")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    outcome = validate_frame("customers_extract", customers_with_bad_ones())
    assert set(outcome.failed_rows) == {"dup", "noname", "checkdigit", "short", "mail"}


def test_each_bad_customer_is_reported_by_its_id_and_the_others_are_not() -> None:
    frame = customers_with_bad_ones()

    outcome = validate_frame("customers_extract", frame)

    assert not outcome.success
    assert set(outcome.failed_rows) == {"dup", "noname", "checkdigit", "short", "mail"}
    assert failed_types(outcome.failed_rows, "dup") == {UNIQUE}
    assert failed_types(outcome.failed_rows, "noname") == {NOT_NULL}
    assert failed_types(outcome.failed_rows, "checkdigit") == {ORG_CHECK}
    assert failed_types(outcome.failed_rows, "short") == {REGEX, ORG_CHECK}
    assert failed_types(outcome.failed_rows, "mail") == {REGEX}
    assert {f.column for f in outcome.failed_rows["mail"]} == {"email"}
    assert outcome.failed_rows["noname"][0].description == "Customer has no name"


def test_customer_without_id_is_reported_under_missing_id() -> None:
    frame = extract_frame([*good_customers(), Customer(id=None, name="Uten id AS")])
    outcome = validate_frame("customers_extract", frame)
    assert set(outcome.failed_rows) == {MISSING_ID}
    assert failed_types(outcome.failed_rows, MISSING_ID) == {NOT_NULL}


def test_empty_extract_passes() -> None:
    assert validate_frame("customers_extract", extract_frame([], Customer)).success


def test_good_employees_pass() -> None:
    outcome = validate_frame("employees_extract", extract_frame(good_employees()))
    assert outcome.success, outcome.to_markdown()


def test_bad_email_and_email_shared_ignoring_case_are_reported() -> None:
    employees = employees_with_bad_ones()
    outcome = validate_frame("employees_extract", extract_frame(employees))
    assert set(outcome.failed_rows) == {"bad", "upper", "e1"}
    assert failed_types(outcome.failed_rows, "bad") == {REGEX}
    assert failed_types(outcome.failed_rows, "upper") == {UNIQUE}
    assert outcome.failed_rows["e1"][0].column == "email_normalized"


def test_employee_without_first_name_is_reported() -> None:
    frame = extract_frame(good_employees())
    frame.loc[frame["id"] == "e2", "first_name"] = None
    outcome = validate_frame("employees_extract", frame)
    assert set(outcome.failed_rows) == {"e2"}


def test_projects_with_duplicate_number_are_reported_and_missing_numbers_are_not() -> None:
    projects = numbered_projects()
    outcome = validate_frame("projects_extract", extract_frame(projects))
    assert set(outcome.failed_rows) == {"p1", "p5"}
    assert {f.column for f in outcome.failed_rows["p5"]} == {"number"}
    assert validate_frame("projects_extract", extract_frame(projects[:4])).success


def test_both_systems_in_one_frame_are_each_unique_on_their_own() -> None:
    """Ids and numbers are unique within a system: the same ones on both sides are fine, twice
    on one side is not; failed rows are named ``system:id``."""
    projects = numbered_projects()  # p5 repeats p1's number
    frame = sides_frame({"tripletex": projects, "svenn": projects[:4]})
    outcome = validate_frame("projects_extract", frame, id_column=ROW_COLUMN)
    assert set(outcome.failed_rows) == {"tripletex:p1", "tripletex:p5"}
    assert {f.column for f in outcome.failed_rows["tripletex:p5"]} == {"number"}

    twice = [*good_customers(), good_customers()[0]]
    frame = sides_frame({"tripletex": good_customers(), "svenn": twice})
    outcome = validate_frame("customers_extract", frame, id_column=ROW_COLUMN)
    assert set(outcome.failed_rows) == {"svenn:c1"}
    assert [f.column for f in outcome.failed_rows["svenn:c1"]] == ["id"]

    upper = Employee(id="e9", first_name="Kari", email="KARI@fjord.no")  # e1's, ignoring case
    frame = sides_frame({"tripletex": [*good_employees(), upper], "svenn": good_employees()})
    outcome = validate_frame("employees_extract", frame, id_column=ROW_COLUMN)
    assert set(outcome.failed_rows) == {"tripletex:e1", "tripletex:e9"}


def test_one_run_over_several_entities_links_splits_into_what_each_alone_finds() -> None:
    """The links suite runs once over every entity's links; each entity's part is what a run
    over that entity's links alone finds (rows, checks, success, summary)."""
    svenn, tripletex = linked_customers()
    customers = links_frame(
        Entity.CUSTOMER, [("s1", "1"), ("s2", "2"), ("s3", "3"), ("s4", "2")], svenn, tripletex
    )
    people = {"s1": Employee(id="s1", first_name="Kari", email="kari@fjord.no")}
    staff = {"1": Employee(id="1", first_name="Kari", email="kari@fjord.no")}
    sound = links_frame(Entity.EMPLOYEE, [("s1", "1")], people, staff)
    # the same ids as the customers' links: unique within an entity, not across
    clash = links_frame(Entity.PROJECT, [("s2", "2")], {}, {})
    whole = validate_frame(
        "links_after_sync", pd.concat([customers, sound, clash], ignore_index=True)
    )
    for entity, alone in (
        (Entity.CUSTOMER, customers),
        (Entity.EMPLOYEE, sound),
        (Entity.PROJECT, clash),
    ):
        expected = validate_frame("links_after_sync", alone)
        part = whole.part(link_rows_of(entity), len(alone))
        assert part == expected
        assert part.to_markdown() == expected.to_markdown()
    assert not whole.part(link_rows_of(Entity.CUSTOMER), 4).success
    assert whole.part(link_rows_of(Entity.EMPLOYEE), 1).success


def test_a_check_that_could_not_run_is_every_parts_failure() -> None:
    frame = pd.DataFrame({"id": ["a:1", "b:1"], "name": ["x", "y"], "system": ["", ""]})
    whole = validate_frame("projects_extract", frame)
    part = whole.part(lambda row: row.startswith("a:"), 1)
    assert [f.column for f in part.failed_expectations] == ["number"]
    assert not part.success and part.failed_rows == {}


def linked_customers() -> tuple[dict[str, Customer], dict[str, Customer]]:
    svenn = {
        "s1": Customer(id="s1", name="Fjord Bygg AS", organization_number=ORG_A),
        "s2": Customer(id="s2", name="Nordlys Rør AS", organization_number=ORG_B),
        "s3": Customer(id="s3", name="Vik Elektro AS"),
        "s4": Customer(id="s4", name="Berg Maling AS", organization_number=ORG_C),
    }
    tripletex = {
        "1": Customer(id="1", name="FJORD  BYGG AS", organization_number=ORG_A),
        "2": Customer(id="2", name="Nordlys Rør AS", organization_number=ORG_B),
        "3": Customer(id="3", name="Vik Elektro og Data AS"),
        "4": Customer(id="4", name="Berg Maling AS", organization_number=ORG_C),
    }
    return svenn, tripletex


def test_links_with_equal_keys_pass() -> None:
    svenn, tripletex = linked_customers()
    links = [("s1", "1"), ("s2", "2"), ("s4", "4")]
    frame = links_frame(Entity.CUSTOMER, links, svenn, tripletex)
    outcome = validate_frame("links_after_sync", frame)
    assert outcome.success, outcome.to_markdown()


def test_link_whose_names_differ_and_tripletex_id_linked_twice_are_reported() -> None:
    svenn, tripletex = linked_customers()
    links = [("s1", "1"), ("s2", "2"), ("s3", "3"), ("s4", "2")]
    outcome = validate_frame(
        "links_after_sync", links_frame(Entity.CUSTOMER, links, svenn, tripletex)
    )

    assert set(outcome.failed_rows) == {"customer:s3:3", "customer:s2:2", "customer:s4:2"}
    assert [f.description for f in outcome.failed_rows["customer:s3:3"]] == [
        "Linked records have different names"
    ]
    assert "Tripletex record is linked more than once" in {
        f.description for f in outcome.failed_rows["customer:s2:2"]
    }
    # s4 is also linked to a record with another name and org number.
    assert len(outcome.failed_rows["customer:s4:2"]) == 3


def test_employee_links_compare_email_ignoring_case() -> None:
    svenn = {
        "s1": Employee(id="s1", first_name="Kari", last_name="Nordmann", email="Kari@Fjord.no")
    }
    tripletex = {
        "1": Employee(id="1", first_name="Kari", last_name="Nordmann", email="kari@fjord.no"),
        "2": Employee(id="2", first_name="Kari", last_name="Nordmann", email="kari@vik.no"),
    }
    ok = links_frame(Entity.EMPLOYEE, [("s1", "1")], svenn, tripletex)
    assert validate_frame("links_after_sync", ok).success
    bad = links_frame(Entity.EMPLOYEE, [("s1", "2")], svenn, tripletex)
    outcome = validate_frame("links_after_sync", bad)
    assert [f.column for f in outcome.failed_rows["employee:s1:2"]] == ["email_equal"]


def test_dangling_link_is_reported() -> None:
    svenn, tripletex = linked_customers()
    frame = links_frame(Entity.CUSTOMER, [("s1", "1"), ("s2", "gone")], svenn, tripletex)
    assert set(validate_frame("links_after_sync", frame).failed_rows) == {"customer:s2:gone"}


def test_markdown_summary_names_failed_checks_and_ids() -> None:
    frame = extract_frame(
        [*good_customers(), Customer(id="x9", name="Feil AS", organization_number="974760672")]
    )
    text = validate_frame("customers_extract", frame).to_markdown()
    assert "customers_extract" in text
    assert (
        "| Organisation number fails the mod-11 check digit | organization_number | 1 | x9 |"
        in text
    )
    passed = validate_frame("customers_extract", extract_frame(good_customers())).to_markdown()
    assert "passed all 6 expectations" in passed


def test_frame_without_the_id_column_is_refused() -> None:
    with pytest.raises(ValueError, match="id column"):
        validate_frame("projects_extract", pd.DataFrame({"name": ["x"]}))


def test_missing_column_fails_the_expectation_instead_of_crashing() -> None:
    outcome = validate_frame(
        "projects_extract", pd.DataFrame({"id": ["p1"], "name": ["x"], "system": [""]})
    )
    assert not outcome.success
    assert [f.column for f in outcome.failed_expectations] == ["number"]
    assert "could not run" in outcome.failed_expectations[0].description
    assert outcome.failed_rows == {}


def test_extract_frame_is_json_safe_with_flattened_address() -> None:
    from sync.records import Address

    frame = extract_frame(
        [
            Customer(id="c1", name="A", customer_number=7, postal_address=Address(city="Bergen")),
            Customer(id="c2", name="B"),
        ]
    )
    rows = frame.to_dict(orient="records")
    json.dumps(rows)  # no NaN, no objects
    assert rows[0]["customer_number"] == 7
    assert rows[0]["postal_address_city"] == "Bergen"
    assert rows[1]["postal_address_city"] is None
    assert "postal_address" not in frame.columns


def test_a_link_made_on_an_identifier_tolerates_a_typo_in_the_name():
    from sync.entities import Customer

    tx = {
        "1": Customer(id="1", name="Abrahamsen Blikkenslager AS", organization_number="868488972")
    }
    sv = {
        "a": Customer(
            id="a", name="Abrahamsen Blikkenlsager A.S.", organization_number="NO 868 488 972 MVA"
        )
    }
    by_org = validate_frame(
        "links_after_sync", links_frame(Entity.CUSTOMER, [("a", "1", "org_number")], sv, tx)
    )
    assert by_org.success
    by_name = validate_frame(
        "links_after_sync", links_frame(Entity.CUSTOMER, [("a", "1", "name_postcode")], sv, tx)
    )
    assert not by_name.success


def test_each_failure_carries_a_norwegian_reason_for_the_tenant_log():
    from sync.entities import Customer

    frame = extract_frame([Customer(id="1", name="Bygg AS", email="not-an-address")])
    outcome = validate_frame("customers_extract", frame)
    (failure,) = outcome.failed_rows["1"]
    assert failure.description == "E-mail address is not well-formed"
    assert failure.description_no == "E-postadressen er ikke gyldig"


# Run in a fresh interpreter: GX imported by validate_frame as in a flow run's process.
_FRESH_PROCESS_CHECKS = """
import json, sys
from expectations.runner import extract_frame, validate_frame
from tests.extract_cases import customers_with_bad_ones, employees_with_bad_ones, numbered_projects

customers = customers_with_bad_ones()
employees = extract_frame(employees_with_bad_ones())
projects = extract_frame(numbered_projects())
failed = {
    suite: {i: sorted(f.expectation_type for f in fs) for i, fs in outcome.failed_rows.items()}
    for suite, frame in (
        ("customers_extract", customers),
        ("employees_extract", employees),
        ("projects_extract", projects),
    )
    for outcome in [validate_frame(suite, frame)]
}
ran_scipy_stats = "scipy.stats._stats_py" in sys.modules
ran_altair = "altair.vegalite" in sys.modules
import great_expectations as gx
suite = gx.ExpectationSuite(name="kl", expectations=[{
    "type": "expect_column_kl_divergence_to_be_less_than",
    "kwargs": {"column": "x", "partition_object": {"values": [1, 2], "weights": [0.5, 0.5]},
               "threshold": 0.1},
}])
from scipy import stats
import altair
print(json.dumps({
    "failed": failed,
    "ran_scipy_stats": ran_scipy_stats,
    "ran_altair": ran_altair,
    "kl_loaded": len(suite.expectations),
    "entropy": float(stats.entropy([0.5, 0.5], base=2)),
    "chart": type(altair.Chart({"values": [{"x": 1}]}).mark_bar()).__name__,
}))
"""


# GX prepared on a thread, as a flow's extract starts it, while the checks already ask for it.
_IN_BACKGROUND = """
from expectations.runner import prepare_in_background
prepare_in_background(["employees_extract", "customers_extract", "projects_extract"])
"""


@pytest.mark.parametrize("prelude", ["", _IN_BACKGROUND], ids=["on_first_use", "in_background"])
def test_a_fresh_process_fails_the_same_bad_records_without_running_scipy_stats(
    prelude: str,
) -> None:
    """GX is imported with ``scipy.stats`` and ``altair`` deferred (expectations.gx): the
    suites flag the same rows with the same expectations, neither module ran, and both work
    once used; the same when GX was being prepared on a thread meanwhile."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", prelude + _FRESH_PROCESS_CHECKS],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["failed"] == {
        "customers_extract": {
            "dup": [UNIQUE],
            "noname": [NOT_NULL],
            "checkdigit": [ORG_CHECK],
            "short": sorted([REGEX, ORG_CHECK]),
            "mail": [REGEX],
        },
        "employees_extract": {"bad": [REGEX], "upper": [UNIQUE], "e1": [UNIQUE]},
        "projects_extract": {"p1": [UNIQUE], "p5": [UNIQUE]},
    }
    assert seen["ran_scipy_stats"] is False
    assert seen["ran_altair"] is False
    assert seen["kl_loaded"] == 1  # GX's own expectation that imports scipy.stats still loads
    assert seen["entropy"] == 1.0  # and scipy.stats runs in full once something uses it
    assert seen["chart"] == "Chart"  # so does altair


def test_a_deferred_module_runs_once_on_the_first_attribute_it_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an import sets is there without running the module; the first missing attribute
    runs it, once, also when threads ask at the same moment."""
    import sys
    import threading

    from expectations.gx import _defer

    runs = tmp_path / "runs.txt"
    (tmp_path / "deferred_probe.py").write_text(
        f"import time\nwith open({str(runs)!r}, 'a') as f:\n    f.write('ran\\n')\n"
        "time.sleep(0.05)\nVALUE = 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "deferred_probe", raising=False)
    _defer("deferred_probe")
    module = sys.modules["deferred_probe"]
    import deferred_probe  # type: ignore[import-not-found]  # noqa: F401

    assert module.__spec__ is not None and module.__name__ == "deferred_probe"
    assert not runs.exists()
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(module.VALUE)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [42] * 4
    assert runs.read_text() == "ran\n"
    with pytest.raises(AttributeError):
        _ = module.NOT_THERE
    monkeypatch.delitem(sys.modules, "deferred_probe")
