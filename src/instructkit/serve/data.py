"""What the browser shows, as plain data: every page of ``instructkit serve`` is one of
these functions' results, rendered as HTML or returned as JSON (``?format=json``).

Everything here only reads: task sources, run folders (``metrics.json``,
``predictions_*.jsonl``, ``split.json``, ``config.yaml``) and a results store. Paths that
come from a URL are resolved inside the folders given to the server, never outside.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from instructkit.errors import InstructkitError
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.schema import Task


class NotFound(InstructkitError):
    """A page that does not exist (an unknown task, run or file)."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "source"


@dataclass
class Source:
    """One task source given to the server: ``builtin``, a registered source name or a path."""

    id: str
    spec: str

    @cached_property
    def tasks(self) -> TaskCollection:
        from instructkit.tasks.builtin import builtin_tasks
        from instructkit.tasks.collection import load_collection

        if self.spec == "builtin":
            return builtin_tasks(n_instances=100)
        return load_collection(Path(self.spec), split=None)

    @cached_property
    def split_of(self) -> dict[str, str]:
        """Task → ``train`` / ``test`` / ``excluded`` for a SuperNI folder (its official
        default split files); empty for other sources."""
        from instructkit.tasks.superni import read_split_file

        out: dict[str, str] = {}
        splits = Path(self.spec) / "splits" / "default"
        for name in ("excluded", "train", "test"):
            f = splits / f"{name}_tasks.txt"
            if f.is_file():
                out |= dict.fromkeys(read_split_file(f), name)
        return out


def within(root: Path, relative: str) -> Path:
    """``root / relative``, refused (as not found) when it would lie outside ``root``."""
    base = root.resolve()
    path = (base / relative).resolve()
    if path != base and base not in path.parents:
        raise NotFound(f"'{relative}' is outside the served folder")
    return path


@dataclass
class Site:
    """The folders and files a server shows."""

    sources: list[Source]
    runs: Path | None = None
    store: Path | None = None
    cache: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, sources: list[str], runs: str | Path | None, store: str | Path | None) -> Site:
        ids: list[str] = []
        out = []
        for spec in sources or ["builtin"]:
            sid = _slug(Path(spec).name if spec != "builtin" else spec)
            while sid in ids:
                sid += "_"
            ids.append(sid)
            if spec != "builtin" and not Path(spec).exists():
                raise InstructkitError(f"{spec}: no such task source")
            out.append(Source(sid, spec))
        runs_path = Path(runs) if runs else None
        store_path = Path(store) if store else None
        if store_path is None and runs_path is not None and (runs_path / "results.sqlite").exists():
            store_path = runs_path / "results.sqlite"
        return cls(out, runs_path, store_path)

    # ---- tasks ------------------------------------------------------------------

    def source(self, sid: str) -> Source:
        for s in self.sources:
            if s.id == sid:
                return s
        raise NotFound(f"no task source '{sid}'")

    def task(self, sid: str, name: str) -> Task:
        tasks = self.source(sid).tasks
        if name not in tasks:
            raise NotFound(f"no task '{name}' in {sid}")
        return tasks[name]

    def task_list(
        self,
        *,
        q: str = "",
        source: str = "",
        category: str = "",
        cluster: str = "",
        split: str = "",
    ) -> dict[str, Any]:
        rows = []
        facets: dict[str, set[str]] = {"category": set(), "cluster": set(), "split": set()}
        for s in self.sources:
            if source and s.id != source:
                continue
            for t in s.tasks:
                role = s.split_of.get(t.name, "")
                facets["category"].add(t.category)
                facets["cluster"].add(t.cluster or "")
                facets["split"].add(role)
                if category and t.category != category:
                    continue
                if cluster and (t.cluster or "") != cluster:
                    continue
                if split and role != split:
                    continue
                if q and q.lower() not in f"{t.name} {t.title or ''} {t.definition}".lower():
                    continue
                rows.append(
                    {
                        "source": s.id,
                        "name": t.name,
                        "category": t.category,
                        "cluster": t.cluster or "",
                        "split": role,
                        "instances": len(t.instances),
                        "positive": len(t.positive_examples),
                        "negative": len(t.negative_examples),
                    }
                )
        return {
            "filters": {
                "q": q,
                "source": source,
                "category": category,
                "cluster": cluster,
                "split": split,
            },
            "sources": [s.id for s in self.sources],
            "facets": {k: sorted(v - {""}) for k, v in facets.items()},
            "tasks": rows,
        }

    def task_page(self, sid: str, name: str, *, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        t = self.task(sid, name)

        def example(e: Any) -> dict[str, str]:
            return {
                "input": e.input,
                "output": e.output,
                "explanation": e.explanation or "",
                "suggestion": e.suggestion or "",
            }

        offset = max(0, offset)
        return {
            "source": sid,
            "name": t.name,
            "title": t.title or "",
            "category": t.category,
            "categories": list(t.categories),
            "cluster": t.cluster or "",
            "split": self.source(sid).split_of.get(t.name, ""),
            "sources": list(t.source),
            "prompt": t.prompt or "",
            "definition": t.definition,
            "things_to_avoid": t.things_to_avoid or "",
            "emphasis_and_caution": t.emphasis_and_caution or "",
            "answer_choices": list(t.answer_choices or []),
            "positive_examples": [example(e) for e in t.positive_examples],
            "negative_examples": [example(e) for e in t.negative_examples],
            "instances_total": len(t.instances),
            "offset": offset,
            "limit": limit,
            "instances": [
                {"id": i.id, "input": i.input, "outputs": list(i.outputs)}
                for i in t.instances[offset : offset + limit]
            ],
        }

    # ---- templates --------------------------------------------------------------

    def template_families(self) -> dict[str, Any]:
        from instructkit.prompts.render import TEMPLATE_FAMILIES

        families = []
        for name, fam in TEMPLATE_FAMILIES.items():
            doc = (getattr(fam, "description", "") or (type(fam).__doc__ or "")).strip()
            families.append({"name": name, "description": doc.split("\n")[0]})
        return {"families": families, "sources": [s.id for s in self.sources]}

    def templates_of(self, sid: str, name: str) -> dict[str, Any]:
        from instructkit.prompts.render import template_ids

        t = self.task(sid, name)
        ids = template_ids(t)
        by_family: dict[str, list[str]] = {}
        for tid in ids:
            by_family.setdefault(tid.split(":", 1)[0], []).append(tid)
        return {"source": sid, "task": name, "templates": by_family}

    def rendered(self, sid: str, name: str, template: str, *, n: int = 5) -> dict[str, Any]:
        """A template on the first ``n`` rows of a task, side by side, with its lint."""
        from instructkit.prompts.render import RenderContext, check_template, render

        t = self.task(sid, name)
        check_template(template)
        rows = []
        for inst in t.instances[: max(1, min(n, 50))]:
            try:
                ex = render(template, t, inst, RenderContext())
                rows.append(
                    {
                        "id": inst.id,
                        "source": ex.source,
                        "target": ex.target,
                        "options": list(ex.options),
                        "error": "",
                    }
                )
            except InstructkitError as e:
                rows.append(
                    {"id": inst.id, "source": "", "target": "", "options": [], "error": str(e)}
                )
        return {
            "source": sid,
            "task": name,
            "template": template,
            "rows": rows,
            "lint": self._lint(t, template),
        }

    def _lint(self, task: Task, template: str) -> list[str]:
        from instructkit.prompts.checks import check_flan, check_promptsource

        family = template.split(":", 1)[0]
        rows = [i.fields for i in task.instances[:20]]
        try:
            if family == "promptsource":
                from instructkit.prompts.promptsource import task_templates

                tpls = [
                    tp
                    for tp in task_templates(task)
                    if template.split(":", 1)[1] in (tp.id, tp.name, "*")
                ]
                return [str(p) for p in check_promptsource(tpls, rows)]
            if family.startswith("flan"):
                return [str(p) for p in check_flan(TaskCollection.from_tasks([task]))]
        except InstructkitError as e:
            return [str(e)]
        return []

    # ---- runs -------------------------------------------------------------------

    def run_list(self) -> dict[str, Any]:
        if self.runs is None or not self.runs.is_dir():
            return {"runs": [], "root": str(self.runs or "")}
        rows = []
        for m in sorted(self.runs.rglob("metrics.json")):
            if len(m.relative_to(self.runs).parts) > 4:
                continue
            try:
                data = json.loads(m.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            rid = m.parent.relative_to(self.runs).as_posix()
            rows.append(
                {
                    "id": rid,
                    "split": data.get("split", ""),
                    "eval_tasks": len(data.get("eval_tasks", [])),
                    "seconds": data.get("seconds"),
                    "systems": list(data.get("systems", {})),
                    "tags": self._tags(m.parent),
                }
            )
        return {"runs": rows, "root": str(self.runs)}

    def _run_dir(self, rid: str) -> Path:
        if self.runs is None:
            raise NotFound("no runs folder given (--runs)")
        path = within(self.runs, rid)
        if not (path / "metrics.json").is_file():
            raise NotFound(f"no run '{rid}'")
        return path

    @staticmethod
    def _tags(run: Path) -> list[str]:
        return sorted(
            p.name.removeprefix("predictions_").removesuffix(".jsonl")
            for p in run.glob("predictions_*.jsonl")
            if ".rank" not in p.name
        )

    def run_page(self, rid: str) -> dict[str, Any]:
        run = self._run_dir(rid)
        data = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        systems = data.get("systems", {})
        metrics = sorted({m for s in systems.values() for m in s.get("overall", {})})
        overall = [
            {"system": name, **{m: s.get("overall", {}).get(m) for m in metrics}}
            for name, s in systems.items()
        ]
        tasks = sorted({t for s in systems.values() for t in s.get("per_task", {})})
        per_task = [
            {
                "task": t,
                **{
                    name: s.get("per_task", {}).get(t, {}).get("rougeL")
                    for name, s in systems.items()
                },
            }
            for t in tasks
        ]
        groups = {"category": {}, "cluster": {}}  # type: dict[str, dict[str, dict[str, Any]]]
        for tag in self._tags(run):
            for p in self._predictions(run, tag):
                for g in ("category", "cluster"):
                    key = p.get(g) or "-"
                    acc = groups[g].setdefault(key, {})
                    n, total = acc.get(tag, (0, 0.0))
                    acc[tag] = (n + 1, total + p["rougeL"])
        by_group = {
            g: [
                {g: k, **{tag: round(100 * s / n, 1) for tag, (n, s) in v.items()}}
                for k, v in sorted(per.items())
            ]
            for g, per in groups.items()
        }
        split = None
        if (run / "split.json").is_file():
            split = json.loads((run / "split.json").read_text(encoding="utf-8"))
        return {
            "id": rid,
            "split_protocol": data.get("split", ""),
            "seconds": data.get("seconds"),
            "metrics": metrics,
            "systems": list(systems),
            "overall": overall,
            "per_task": per_task,
            "by_category": by_group["category"],
            "by_cluster": by_group["cluster"],
            "tags": self._tags(run),
            "has_split": split is not None,
        }

    def _predictions(self, run: Path, tag: str) -> list[dict[str, Any]]:
        """The predictions of one tag of a run, each with its ROUGE-L and exact match
        (×100, the best over the references, as the official scorer has them)."""
        from instructkit.evaluation.metrics import score_instance

        path = run / f"predictions_{tag}.jsonl"
        if not re.fullmatch(r"[A-Za-z0-9_=.+-]+", tag) or not path.is_file():
            raise NotFound(f"no predictions '{tag}' in this run")
        stat = path.stat()
        key = ("predictions", str(path), stat.st_mtime_ns, stat.st_size)
        if key not in self.cache:
            rows = []
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(d, dict):
                    continue
                pred = str(d.get("prediction", ""))
                refs = [str(r) for r in d.get("references", [])]
                s = score_instance(pred, refs)
                rows.append(
                    {
                        "id": str(d.get("id", "")),
                        "task": str(d.get("task", "")),
                        "category": str(d.get("category", "")),
                        "cluster": str(d.get("cluster", "")),
                        "template": str(d.get("template", "")),
                        "prediction": pred,
                        "references": refs,
                        "rougeL": round(100 * s["rougeL"], 1),
                        "exact_match": round(100 * s["exact_match"], 1),
                    }
                )
            self.cache[key] = rows
        return list(self.cache[key])

    def predictions_page(
        self,
        rid: str,
        tag: str,
        *,
        show: str = "all",
        task: str = "",
        sort: str = "id",
        desc: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> dict[str, Any]:
        run = self._run_dir(rid)
        rows = self._predictions(run, tag)
        if task:
            rows = [r for r in rows if r["task"] == task]
        if show == "failures":
            rows = [r for r in rows if r["exact_match"] < 100]
        elif show == "empty":
            rows = [r for r in rows if not r["prediction"].strip()]
        if sort not in ("id", "task", "rougeL", "exact_match", "prediction"):
            sort = "id"
        rows.sort(key=lambda r: (r[sort], r["id"]), reverse=desc)
        offset = max(0, offset)
        return {
            "id": rid,
            "tag": tag,
            "tags": self._tags(run),
            "show": show,
            "task": task,
            "sort": sort,
            "desc": desc,
            "total": len(rows),
            "offset": offset,
            "limit": limit,
            "rows": rows[offset : offset + limit],
        }

    def compare(self, a: str, b: str, tag: str, *, show: str = "changed") -> dict[str, Any]:
        """Two runs instance by instance (matched on instance id and template)."""
        left = {(r["id"], r["template"]): r for r in self._predictions(self._run_dir(a), tag)}
        right = {(r["id"], r["template"]): r for r in self._predictions(self._run_dir(b), tag)}
        rows = []
        for k in sorted(set(left) | set(right)):
            la, rb = left.get(k), right.get(k)
            row = {
                "id": k[0],
                "template": k[1],
                "task": (la or rb or {}).get("task", ""),
                "references": (la or rb or {}).get("references", []),
                "a": la["prediction"] if la else None,
                "b": rb["prediction"] if rb else None,
                "a_rougeL": la["rougeL"] if la else None,
                "b_rougeL": rb["rougeL"] if rb else None,
            }
            row["delta"] = (
                round(row["b_rougeL"] - row["a_rougeL"], 1)
                if la is not None and rb is not None
                else None
            )
            if show == "changed" and la and rb and la["prediction"] == rb["prediction"]:
                continue
            rows.append(row)
        mean = {
            side: round(sum(r["rougeL"] for r in d.values()) / len(d), 1) if d else None
            for side, d in (("a", left), ("b", right))
        }
        return {
            "a": a,
            "b": b,
            "tag": tag,
            "show": show,
            "mean_rougeL": mean,
            "matched": len(set(left) & set(right)),
            "rows": rows,
        }

    def split_page(self, rid: str) -> dict[str, Any]:
        """Where each task of a run went and why, and the mixing rate of each training
        task (from the run's own config)."""
        run = self._run_dir(rid)
        path = run / "split.json"
        if not path.is_file():
            raise NotFound(f"run '{rid}' has no split.json")
        split = json.loads(path.read_text(encoding="utf-8"))
        reasons = split.get("reasons", {})
        roles = [
            {"task": t, "role": role, "reason": reasons.get(t, "")}
            for role in ("train", "eval", "excluded")
            for t in split.get(role, [])
        ]
        return {
            "id": rid,
            "protocol": split.get("protocol", ""),
            "tasks": roles,
            "rates": self._rates(run),
        }

    def _rates(self, run: Path) -> list[dict[str, Any]]:
        """The mixing rate and pool of each training task, from the mixture the run's own
        config builds (experiments.plan, as training built it); cached per config file."""
        from instructkit.experiments.config import load_config
        from instructkit.experiments.plan import load_tasks, make_mixture, make_split

        cfg_path = run / "config.yaml"
        if not cfg_path.is_file():
            return []
        stat = cfg_path.stat()
        key = ("rates", str(cfg_path), stat.st_mtime_ns, stat.st_size)
        if key not in self.cache:
            try:
                cfg = load_config(cfg_path)
                tasks = load_tasks(cfg)
                mixture = make_mixture(cfg, tasks, make_split(cfg, tasks))
            except InstructkitError:
                return []
            self.cache[key] = [
                {"task": t, "examples": len(pool), "rate": round(mixture.rates[t], 6)}
                for t, pool in mixture.pools.items()
            ]
        return list(self.cache[key])

    # ---- sweeps -----------------------------------------------------------------

    def sweep_list(self) -> dict[str, Any]:
        if self.store is None or not self.store.is_file():
            return {"store": str(self.store or ""), "experiments": []}
        from instructkit.experiments.store import ResultsStore

        store = ResultsStore(self.store)
        try:
            rows = store.db.execute(
                "SELECT experiment, kind, COUNT(*) FROM cells GROUP BY experiment, kind "
                "ORDER BY experiment"
            ).fetchall()
        finally:
            store.close()
        return {
            "store": str(self.store),
            "experiments": [{"name": e, "kind": k, "cells": n} for e, k, n in rows],
        }

    def sweep_page(self, experiment: str, plot_dir: Path) -> dict[str, Any]:
        """The report tables of an experiment, and its plot written into ``plot_dir`` (a
        folder of the server's own, never the user's)."""
        from instructkit.experiments.store import ResultsStore
        from instructkit.experiments.sweep_report import (
            category_table,
            report_metric,
            sweep_table,
            template_spread_table,
            write_sweep_report,
        )

        if self.store is None or not self.store.is_file():
            raise NotFound("no results store given (--store)")
        names = {e["name"] for e in self.sweep_list()["experiments"]}
        if experiment not in names:
            raise NotFound(f"no experiment '{experiment}' in the store")
        store = ResultsStore(self.store)
        try:
            metric = report_metric(store, experiment)
            layout, header, body = sweep_table(store, experiment, metric)
            tables = [{"title": f"{metric} ({layout})", "header": header, "rows": body}]
            for title, extra in (
                ("per category", category_table(store, experiment, metric)),
                ("per template", template_spread_table(store, experiment, metric)),
            ):
                if extra:
                    tables.append({"title": title, "header": extra[0], "rows": extra[1]})
        finally:
            store.close()
        key = ("plot", experiment, self.store.stat().st_mtime_ns)
        if key not in self.cache:
            out = plot_dir / f"{len(self.cache)}"
            write_sweep_report(self.store, experiment, out, metric)
            self.cache[key] = out
        plots = sorted(p.name for p in Path(self.cache[key]).glob("*.png"))
        return {"experiment": experiment, "metric": metric, "tables": tables, "plots": plots}

    def sweep_plot(self, experiment: str, name: str) -> Path:
        for key, folder in self.cache.items():
            if isinstance(key, tuple) and key[:2] == ("plot", experiment):
                if not re.fullmatch(r"[A-Za-z0-9_.-]+\.(png|svg)", name):
                    break
                path = within(Path(folder), name)
                if path.is_file():
                    return path
        raise NotFound(f"no plot '{name}' for '{experiment}'")
