"""The defaults are written twice (the typed models in agent/config.py and configs/default.yaml, the file a
person edits): they must never disagree, key by key."""

from __future__ import annotations

import yaml

from agent.config import DEFAULT_CONFIG, Settings


def test_every_default_in_the_yaml_file_is_the_models_default_and_no_key_is_missing():
    written = yaml.safe_load(DEFAULT_CONFIG.read_text())
    disagree, missing = [], []
    for section, model in Settings.sections().items():  # `competition:` holds per-competition fields, no defaults
        values = written.get(section) or {}
        for key, spec in model.model_fields.items():
            if key not in values:
                missing.append(f"{section}.{key}")
                continue
            default = spec.get_default(call_default_factory=True)
            default = default.model_dump() if hasattr(default, "model_dump") else default
            value = values[key]
            if isinstance(default, tuple):
                default = list(default)
            if value != default:
                disagree.append(f"{section}.{key}: yaml {value!r}, model {default!r}")
        missing += [f"{section}.{key} (yaml only)" for key in values if key not in model.model_fields]
    assert not disagree and not missing, "\n".join(disagree + missing)
