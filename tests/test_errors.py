"""Reading YAML inputs: every failure is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructkit.errors import ConfigError
from instructkit.experiments.config import load_config
from instructkit.experiments.sweeps import load_sweep
from instructkit.mixtures.split import split_from_yaml
from instructkit.tasks.builtin import builtin_tasks


@pytest.mark.parametrize(
    ("read", "what"),
    [
        (load_config, "config file"),
        (load_sweep, "sweep config"),
        (lambda p: split_from_yaml(p, builtin_tasks(n_instances=4)), "split file"),
    ],
)
def test_yaml_inputs_fail_in_one_line(tmp_path: Path, read, what: str) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match=rf"missing.yaml: {what} not found$"):
        read(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: 1\nb: [2,\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: invalid YAML at line \d+$"):
        read(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"list.yaml: expected a mapping of fields$"):
        read(listed)
