"""Shared fixtures: the reference data beside the repository (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "INSTRUCTKIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


@pytest.fixture(scope="session")
def superni_root() -> Path:
    root = SHARED_DATA / "superni"
    if not (root / "tasks").is_dir():
        pytest.skip(f"SuperNI reference data not found at {root}")
    return root


@pytest.fixture(scope="session")
def t0_eval_root() -> Path:
    root = SHARED_DATA / "t0-eval"
    if not root.is_dir():
        pytest.skip(f"T0 evaluation data not found at {root}")
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests never write into the user's cache.
    monkeypatch.setenv("INSTRUCTKIT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    # Shipped configs name their data under $INSTRUCTKIT_DATA: the reference data here.
    monkeypatch.setenv("INSTRUCTKIT_DATA", str(SHARED_DATA))
