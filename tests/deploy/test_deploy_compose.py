"""The compose file: parses, runs only real commands and real settings, wires the order right."""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml

from gateway.config import ChannelSettings, Settings
from tests.deploy.checks import (
    DEPLOY,
    channel_ids,
    help_exits_cleanly,
    interpolate,
    is_settings_env,
    otel_env_names,
    parse_command,
)

GATEWAY_IMAGE_SERVICES = {"migrate", "api", "worker"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def gateway_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Containerfile"
    }


def test_services_are_the_ones_a_distributed_set_up_needs(compose: dict[str, Any]) -> None:
    assert set(gateway_services(compose)) == GATEWAY_IMAGE_SERVICES
    assert {"postgres", "otel-collector", "jaeger"} <= set(compose["services"])
    assert compose["services"]["worker"]["deploy"]["replicas"] == 2


def test_every_gateway_command_is_a_real_subcommand(compose: dict[str, Any]) -> None:
    for name, service in gateway_services(compose).items():
        args = [interpolate(a) for a in service["command"]]
        parse_command(args)
        help_exits_cleanly(args[:1] if args[0] != "db" else args[:2])
        assert name != "api" or args[0] == "serve"


def test_every_variable_set_is_a_real_setting_and_the_whole_set_validates(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    otel = otel_env_names()
    for name, service in gateway_services(compose).items():
        env = {k: interpolate(str(v)) for k, v in service["environment"].items()}
        unknown = [k for k in env if not (is_settings_env(k) or k in otel)]
        assert unknown == [], f"{name}: not a setting: {unknown}"
        for key in list(os.environ):
            if key.startswith("MARRI_"):
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.database_url.startswith("postgresql://")
        assert settings.keys_json is not None
        assert settings.worker_enabled is (name != "api")


def test_api_and_workers_wait_for_the_migration_job(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_mounted_files_exist_and_channels_file_is_valid(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), source
    channels = yaml.safe_load((DEPLOY / "channels.yaml").read_text(encoding="utf-8"))
    assert set(channels) == channel_ids()
    for value in channels.values():
        ChannelSettings.model_validate(value)


def test_gateway_exports_to_the_collector_which_forwards_to_jaeger(
    compose: dict[str, Any],
) -> None:
    collector = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text(encoding="utf-8"))
    endpoint = compose["services"]["api"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    host, port = endpoint.removeprefix("http://").split(":")
    assert host == "otel-collector"
    receiver = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert receiver.endswith(f":{port}")
    for pipeline in collector["service"]["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline[kind]:
                assert component in collector[kind], f"{kind} {component} is not defined"
    jaeger = collector["exporters"]["otlp/jaeger"]["endpoint"]
    assert jaeger.split(":")[0] in compose["services"]


def test_worker_grace_fits_inside_the_stop_grace_period(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    params = parse_command(worker["command"]).params
    assert params["grace_s"] < int(worker["stop_grace_period"].rstrip("s"))
