"""Running the ``instructkit`` command line in a subprocess, as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, cwd: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m instructkit.cli ARGS`` with a wide terminal, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "instructkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )
