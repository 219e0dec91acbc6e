"""Resumable artefacts keyed by what produced them.

Every file or folder a run resumes from (predictions, option scores, the tuned model,
checkpoints, the untuned predictions shared by sweep cells) has a manifest beside it: the
settings that produced it (model identity with a weights fingerprint, template, rendering
budget, generation settings, training config) and their fingerprint. Before an artefact
is resumed, :func:`claim` compares the manifest with the current settings. On any
difference the old artefact is kept under a ``.stale-<fingerprint>`` name, a one-line
notice says which settings changed, and the work is done again: an artefact is never
reused under other settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

MANIFEST_SUFFIX = ".key.json"
FOLDER_MANIFEST = "instructkit-key.json"


def fingerprint(settings: Any) -> str:
    """A short SHA-256 of canonical JSON (sorted keys)."""
    data = json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def manifest_path(path: Path) -> Path:
    """Where the manifest of a file (``x.jsonl.key.json``) or folder (inside it) lives."""
    if path.suffix == "" and (path.is_dir() or not path.exists()):
        return path / FOLDER_MANIFEST
    return path.with_name(path.name + MANIFEST_SUFFIX)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of an artefact, or None when it has none (or an unreadable one)."""
    m = manifest_path(path)
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(path: Path, settings: Mapping[str, Any]) -> None:
    """Write an artefact's manifest atomically (temporary file, then rename)."""
    m = manifest_path(path)
    m.parent.mkdir(parents=True, exist_ok=True)
    tmp = m.with_name(f"{m.name}.{os.getpid()}.tmp")  # unique: processes may race
    body = {"fingerprint": fingerprint(dict(settings)), "settings": dict(settings)}
    tmp.write_text(json.dumps(body, indent=1, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, m)


def changed_settings(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the settings that differ between two manifests."""
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += changed_settings(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}")
    return out


def _stale_name(path: Path, tag: str) -> Path:
    if path.suffix and not path.is_dir():
        return path.with_name(f"{path.stem}.stale-{tag}{path.suffix}")
    return path.with_name(f"{path.name}.stale-{tag}")


def claim(
    path: str | Path,
    settings: Mapping[str, Any],
    *,
    notify: Callable[[str], None] | None = None,
    write: bool = True,
) -> bool:
    """Make ``path`` safe to resume under ``settings``. Returns True when what is there was
    produced by the same settings (resume it), False when there was nothing or it was
    set aside (start afresh). With ``write``, the manifest of the new settings is written
    now; otherwise the caller writes it once the artefact is complete."""
    path = Path(path)
    settings = json.loads(json.dumps(dict(settings), default=str))
    had = path.exists()
    old = read_manifest(path) if had else None
    if old is not None and old.get("settings") == settings:
        return True
    if had:
        old_settings = (old or {}).get("settings") or {}
        tag = (old or {}).get("fingerprint") or "unkeyed"
        stale = _stale_name(path, str(tag))
        k = 1
        while stale.exists():
            stale = _stale_name(path, f"{tag}-{k}")
            k += 1
        os.replace(path, stale)
        m = manifest_path(path)
        if m.exists() and m.parent != path:
            os.replace(m, manifest_path(stale))
        what = ", ".join(changed_settings(old_settings, settings)) if old else "no record"
        if notify is not None:
            notify(
                f"{path.name} was produced under other settings ({what}); kept as "
                f"{stale.name}, computing it again"
            )
    if write:
        write_manifest(path, settings)
    return False


def discard(path: str | Path) -> None:
    """Remove an artefact and its manifest."""
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
        manifest_path(path).unlink(missing_ok=True)
