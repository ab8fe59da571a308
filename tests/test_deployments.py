"""prefect.yaml points at real flows with the parameters ops will be asked for."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parent.parent


def test_every_deployment_entrypoint_is_a_flow():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    names = set()
    for deployment in spec["deployments"]:
        path, _, name = deployment["entrypoint"].partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, name), Flow), deployment["entrypoint"]
        assert deployment["work_pool"]["name"] == "svenn-sync"
        names.add(deployment["name"])
    assert {"activate", "initial-sync", "reconcile", "realtime-sync"} <= names


def test_the_activation_deployment_takes_no_key_only_secret_block_names():
    from flows.activate import activate

    schema = activate.parameters.model_dump()
    properties = schema["properties"]
    assert set(properties) == {
        "tenant",
        "tripletex_token_block",
        "svenn_key_block",
        "approval_timeout_seconds",
        "approval_poll_seconds",
    }
    assert schema["required"] == ["tenant"]
    for name, spec in properties.items():  # names and numbers only: nothing secret fits here
        assert spec.get("format") != "password", name


def test_prefect_yaml_is_valid_for_prefect_deploy():
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(yaml.safe_load((ROOT / "prefect.yaml").read_text()))
    initial_sync = next(d for d in model.deployments if d.name == "initial-sync")
    assert initial_sync.concurrency_limit is not None
    assert initial_sync.concurrency_limit.limit == 1


def test_reconcile_runs_nightly_at_two_oslo_time_one_run_at_a_time():
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(yaml.safe_load((ROOT / "prefect.yaml").read_text()))
    reconcile = next(d for d in model.deployments if d.name == "reconcile")
    [schedule] = reconcile.schedules or []
    assert schedule.cron == "0 2 * * *" and schedule.timezone == "Europe/Oslo"
    assert reconcile.concurrency_limit is not None and reconcile.concurrency_limit.limit == 1


def _deployments() -> list[dict]:
    return list(yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"])


def _flow(entrypoint: str) -> Flow:
    path, _, name = entrypoint.partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def test_every_deployment_tells_the_operator_what_it_does():
    for deployment in _deployments():
        assert len(deployment.get("description", "")) > 80, deployment["name"]
        assert "svenn-sync" in deployment.get("tags", []), deployment["name"]


def test_parameters_in_prefect_yaml_are_parameters_of_the_flow():
    for deployment in _deployments():
        accepted = set(_flow(deployment["entrypoint"]).parameters.properties)
        assert set(deployment.get("parameters") or {}) <= accepted, deployment["name"]


def test_activation_initial_sync_and_turn_on_are_manual_the_rest_scheduled_one_at_a_time():
    for deployment in _deployments():
        scheduled = bool(deployment.get("schedules"))
        if deployment["name"] in ("activate", "initial-sync", "turn-on-again"):
            assert not scheduled, deployment["name"]
            continue
        assert scheduled, f"{deployment['name']} has no schedule"
        overlapping = 2 if deployment["name"] == "realtime-sync" else 1  # windows overlap
        assert deployment["concurrency_limit"]["limit"] == overlapping, deployment["name"]
        accepted = set(_flow(deployment["entrypoint"]).parameters.properties)
        if {"shard", "shards"} <= accepted:  # a fleet flow: its shard is explicit
            assert {"shard", "shards"} <= set(deployment.get("parameters") or {})


def test_realtime_sync_windows_hand_over_and_never_run_three_at_once():
    from prefect.cli.deploy._models import PrefectYamlModel

    from flows.realtime_sync import realtime_sync

    model = PrefectYamlModel.model_validate(yaml.safe_load((ROOT / "prefect.yaml").read_text()))
    realtime = next(d for d in model.deployments if d.name == "realtime-sync")
    assert realtime.concurrency_limit is not None and realtime.concurrency_limit.limit == 2
    assert realtime.schedules and realtime.description
    window = realtime.parameters["window_seconds"]
    interval = realtime.schedules[0].interval.total_seconds()
    # a window covers its interval and ticks on until the next one has ticked (at most
    # wait_for_next_seconds, less than an interval: never a third live window)
    assert window >= interval
    assert 0 < realtime.parameters["wait_for_next_seconds"] < interval
    properties = realtime_sync.parameters.model_dump()["properties"]
    assert {"shard", "shards", "concurrency", "window_seconds", "poll_seconds"} <= set(properties)
    assert "wait_for_next_seconds" in properties
