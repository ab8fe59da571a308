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
    assert names == {"activate", "initial-sync"}


def test_activation_asks_for_the_keys_as_secrets():
    from flows.activate import activate

    schema = activate.parameters.model_dump()
    properties = schema["properties"]
    for secret in ("tripletex_employee_token", "svenn_api_key"):
        assert properties[secret].get("format") == "password", properties[secret]


def test_prefect_yaml_is_valid_for_prefect_deploy():
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(yaml.safe_load((ROOT / "prefect.yaml").read_text()))
    initial_sync = next(d for d in model.deployments if d.name == "initial-sync")
    assert initial_sync.concurrency_limit is not None
    assert initial_sync.concurrency_limit.limit == 1
