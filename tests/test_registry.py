"""The generic registry: decorators, lazy "module:attr" entries, "did you mean"."""

from __future__ import annotations

import sys

import pytest

from instructkit.errors import InstructkitError, UnknownNameError
from instructkit.registry import Registry


def test_register_get_and_suggest() -> None:
    reg: Registry[int] = Registry("number")

    @reg.register("three")
    def _three() -> int:
        return 3

    reg.register("four", 4)
    assert reg.get("four") == 4 and reg.get("three")() == 3  # type: ignore[operator]
    assert reg.names() == ["three", "four"] and "four" in reg and "five" not in reg
    with pytest.raises(UnknownNameError, match=r"unknown number 'fuor'; did you mean 'four'"):
        reg.get("fuor")
    reg.unregister("four")
    assert "four" not in reg


def test_lazy_entries_import_on_first_use() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register_lazy("decimal", "decimal:Decimal")
    sys.modules.pop("fractions", None)
    reg.register_lazy("fraction", "fractions:Fraction")
    assert "fractions" not in sys.modules  # naming an entry imports nothing
    assert reg.get("fraction").__name__ == "Fraction"  # type: ignore[attr-defined]
    reg.register_lazy("bad", "decimal")
    with pytest.raises(InstructkitError, match="module:attribute"):
        reg.get("bad")


def test_light_commands_import_no_torch() -> None:
    import subprocess

    code = (
        "import sys; import instructkit.cli as c; import instructkit.evaluation.scoring; "
        "import instructkit.experiments.plan, instructkit.experiments.sweep_report; "
        "import instructkit.experiments.config, instructkit.experiments.sweep_config; "
        "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
