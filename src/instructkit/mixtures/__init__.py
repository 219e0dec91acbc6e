"""Mixtures: which tasks a model trains on and is tested on, and how examples are sampled."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "Mixture": "mixture",
    "build_mixture": "mixture",
    "Placement": "split",
    "Split": "split",
    "explicit_split": "split",
    "leave_one_cluster_out": "split",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "Mixture",
    "Placement",
    "Split",
    "build_mixture",
    "explicit_split",
    "leave_one_cluster_out",
]

if TYPE_CHECKING:
    from instructkit.mixtures.mixture import Mixture, build_mixture
    from instructkit.mixtures.split import Placement, Split, explicit_split, leave_one_cluster_out
