"""The shipped Accelerate configs parse with Accelerate's own loader."""

from __future__ import annotations

import pytest
from accelerate.commands.config.config_args import load_config_from_file

from instructkit.errors import UnknownNameError
from instructkit.training import accelerate_config


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ddp", "MULTI_GPU"),
        ("fsdp", "FSDP"),
        ("deepspeed_zero2", "DEEPSPEED"),
        ("deepspeed_zero3", "DEEPSPEED"),
        ("cpu2", "MULTI_CPU"),
    ],
)
def test_config_loads(name: str, kind: str) -> None:
    cfg = load_config_from_file(accelerate_config(name))
    assert str(cfg.distributed_type).endswith(kind)
    if kind == "DEEPSPEED":
        assert cfg.deepspeed_config["zero_stage"] == int(name[-1])


def test_unknown_config() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'fsdp'"):
        accelerate_config("fsdpp")


def test_tracker_names_are_accelerates() -> None:
    from accelerate.utils import LoggerType

    from instructkit.training.config import TRACKERS

    assert set(TRACKERS) == {t.value for t in LoggerType}
