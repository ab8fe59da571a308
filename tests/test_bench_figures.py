"""The figures table of `make bench` (bench/figures.py): which way each figure is better."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/figures.py, writing to a file of this test's own."""
    monkeypatch.setenv("BENCH_FIGURES", str(tmp_path / "figures.jsonl"))
    spec = importlib.util.spec_from_file_location("bench_figures_under_test", BENCH / "figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(module: ModuleType) -> dict[str, str]:
    lines = module.table().splitlines()[2:]
    return {line.split(" | ")[0].removeprefix("| "): line for line in lines}


def test_a_ratio_is_better_higher_and_a_time_lower_unless_said(figures: ModuleType) -> None:
    figures.begin()
    figures.record("speed-up", 2.0, "x", 1.8)
    figures.record("a wait", 2.0, "s", 1.8)
    figures.record("throughput", 2.0, "tenants/s", 1.8, higher_is_better=True)
    stored = [json.loads(t) for t in figures.FIGURES.read_text().splitlines()]
    assert [line.get("higher_is_better") for line in stored[1:]] == [True, False, True]
    rows = _rows(figures)
    assert rows["speed-up"].endswith("| ≥ 1.8 x | yes |")
    assert rows["a wait"].endswith("| ≤ 1.8 s | no |")
    assert rows["throughput"].endswith("| ≥ 1.8 tenants/s | yes |")


def test_a_target_figure_keeps_its_direction_from_the_targets(figures: ModuleType) -> None:
    name = "tenants per second, 2 workers vs 1"
    figures.begin()
    figures.record(name, 0.96, "x", 1.8)
    assert _rows(figures)[name].endswith("| ≥ 1.8 x | no |")
    figures.record(name, 1.9, "x", 1.8)
    assert _rows(figures)[name].endswith("| ≥ 1.8 x | yes |")
