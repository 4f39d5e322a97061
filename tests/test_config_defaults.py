"""Every default is written once, in configs/default.yaml: the typed models say what is accepted, not what is
assumed, and every key left out takes the shipped value."""

from __future__ import annotations

import pytest
import yaml

from agent.config import DEFAULT_CONFIG, ConfigError, ProductionSettings, Settings, load_settings


def test_the_models_carry_no_default_of_their_own():
    with_default = [f"{section}.{key}" for section, model in Settings.sections().items()
                    for key, spec in model.model_fields.items() if not spec.is_required()]
    assert not with_default, f"defaults written in code as well as in default.yaml: {with_default}"


def test_the_yaml_file_holds_every_key_and_nothing_else():
    written = yaml.safe_load(DEFAULT_CONFIG.read_text())
    for section, model in Settings.sections().items():
        assert set(written[section]) == set(model.model_fields), section
    assert set(written) == set(Settings.model_fields)


def test_keys_left_out_take_the_shipped_values():
    shipped = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert Settings() == load_settings()
    assert Settings().dump()["production"] == shipped["production"]
    partial = ProductionSettings(latency_ms=2.5)
    assert partial.latency_ms == 2.5 and partial.size_mb == shipped["production"]["size_mb"]
    assert load_settings(("a layer", {"run": {"seed": 7}})).run.time_limit == shipped["run"]["time_limit"]


def test_a_bad_value_is_still_refused_with_its_layer():
    with pytest.raises(ConfigError) as refused:
        load_settings(("my.yaml", {"production": {"latency_ms": -1}}))
    assert "production.latency_ms" in str(refused.value) and "my.yaml" in str(refused.value)
