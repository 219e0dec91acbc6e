"""``instructkit serve``: a read-only local web application over tasks, templates, runs and
sweeps (Starlette under uvicorn; server-rendered Jinja pages, autoescaped).

Every page has a stable URL, and the same URL with ``?format=json`` (or an ``Accept:
application/json`` header) answers its data as JSON. Only GET is served; nothing is
written outside a temporary folder of the server's own (sweep plots).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from instructkit.errors import InstructkitError
from instructkit.serve.data import NotFound, Site

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("instructkit.serve", "templates"),
    autoescape=True,  # task text, predictions and names are untrusted: always escaped
    undefined=jinja2.StrictUndefined,
)


def _query(request: Request, **changes: Any) -> str:
    params = {**dict(request.query_params), **{k: str(v) for k, v in changes.items()}}
    return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


_ENV.globals["fmt"] = lambda v: "–" if v is None else (f"{v:.1f}" if isinstance(v, float) else v)


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def create_app(
    sources: list[str] | None = None,
    runs: str | Path | None = "runs",
    store: str | Path | None = None,
) -> Starlette:
    """The application over the given task sources, runs folder and results store."""
    site = Site.create(sources or ["builtin"], runs, store)
    plot_dir = Path(tempfile.mkdtemp(prefix="instructkit-serve-"))

    def page(template: str, build: Callable[[Request], dict[str, Any]]) -> Callable[..., Any]:
        def endpoint(request: Request) -> Response:
            try:
                data = build(request)
                status = 200
            except NotFound as e:
                data, status, template_ = {"error": str(e)}, 404, "error.html"
            except InstructkitError as e:
                data, status, template_ = {"error": str(e)}, 422, "error.html"
            else:
                template_ = template
            wants_json = request.query_params.get("format") == "json" or (
                "application/json" in request.headers.get("accept", "")
            )
            if wants_json:
                return JSONResponse(data, status_code=status)
            html = _ENV.get_template(template_).render(
                d=data,
                request=request,
                q=lambda **kw: _query(request, **kw),
                json_url=_query(request, format="json"),
            )
            return HTMLResponse(html, status_code=status)

        return endpoint

    def home(request: Request) -> dict[str, Any]:
        return {
            "sources": [{"id": s.id, "spec": s.spec, "tasks": len(s.tasks)} for s in site.sources],
            "runs": str(site.runs or ""),
            "store": str(site.store or ""),
        }

    def tasks(request: Request) -> dict[str, Any]:
        p = request.query_params
        return site.task_list(
            q=p.get("q", ""),
            source=p.get("source", ""),
            category=p.get("category", ""),
            cluster=p.get("cluster", ""),
            split=p.get("split", ""),
        )

    def task(request: Request) -> dict[str, Any]:
        sid, name = request.path_params["source"], request.path_params["name"]
        data = site.task_page(sid, name, offset=_int(request, "offset", 0))
        data["templates"] = site.templates_of(sid, name)["templates"]
        return data

    def templates(request: Request) -> dict[str, Any]:
        return site.template_families()

    def rendered(request: Request) -> dict[str, Any]:
        sid, name = request.path_params["source"], request.path_params["name"]
        template = request.query_params.get("template", "superni:Def+Pos(2)")
        data = site.rendered(sid, name, template, n=_int(request, "n", 5))
        data["templates"] = site.templates_of(sid, name)["templates"]
        return data

    def runs_(request: Request) -> dict[str, Any]:
        return site.run_list()

    def run(request: Request) -> dict[str, Any]:
        return site.run_page(request.path_params["run"])

    def predictions(request: Request) -> dict[str, Any]:
        p = request.query_params
        return site.predictions_page(
            request.path_params["run"],
            p.get("tag", "after"),
            show=p.get("show", "all"),
            task=p.get("task", ""),
            sort=p.get("sort", "id"),
            desc=p.get("desc", "") in ("1", "true"),
            offset=_int(request, "offset", 0),
            limit=max(1, min(_int(request, "limit", 200), 2000)),
        )

    def split(request: Request) -> dict[str, Any]:
        return site.split_page(request.path_params["run"])

    def compare(request: Request) -> dict[str, Any]:
        p = request.query_params
        if not p.get("a") or not p.get("b"):
            return {"runs": [r["id"] for r in site.run_list()["runs"]], "a": "", "b": ""}
        return site.compare(p["a"], p["b"], p.get("tag", "after"), show=p.get("show", "changed"))

    def sweeps(request: Request) -> dict[str, Any]:
        return site.sweep_list()

    def sweep(request: Request) -> dict[str, Any]:
        return site.sweep_page(request.path_params["experiment"], plot_dir)

    def plot(request: Request) -> Response:
        try:
            path = site.sweep_plot(request.path_params["experiment"], request.path_params["file"])
        except NotFound as e:
            return HTMLResponse(
                _ENV.get_template("error.html").render(
                    d={"error": str(e)}, request=request, q=lambda **kw: "", json_url=""
                ),
                status_code=404,
            )
        return FileResponse(path)

    routes = [
        Route("/", page("home.html", home)),
        Route("/tasks", page("tasks.html", tasks)),
        Route("/tasks/{source}/{name}", page("task.html", task)),
        Route("/tasks/{source}/{name}/render", page("render.html", rendered)),
        Route("/templates", page("templates.html", templates)),
        Route("/runs", page("runs.html", runs_)),
        Route("/runs/{run:path}/predictions", page("predictions.html", predictions)),
        Route("/runs/{run:path}/split", page("split.html", split)),
        Route("/runs/{run:path}", page("run.html", run)),
        Route("/compare", page("compare.html", compare)),
        Route("/sweeps", page("sweeps.html", sweeps)),
        Route("/sweeps/{experiment}/plots/{file}", plot),
        Route("/sweeps/{experiment}", page("sweep.html", sweep)),
    ]
    app = Starlette(routes=routes)
    app.state.site = site
    return app


def serve(
    sources: list[str] | None,
    runs: str | Path | None,
    store: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Run the application under uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(sources, runs, store), host=host, port=port, log_level="warning")
