"""A read-only browser for tasks, templates, runs and sweeps (``instructkit serve``)."""

from instructkit._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"create_app": "app", "serve": "app", "Site": "data"})
