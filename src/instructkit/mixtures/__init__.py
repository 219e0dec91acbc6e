"""Mixtures: which tasks a model trains on and is tested on, and how examples are sampled."""

from instructkit.mixtures.mixture import Mixture, build_mixture
from instructkit.mixtures.split import Placement, Split, explicit_split, leave_one_cluster_out

__all__ = [
    "Mixture",
    "Placement",
    "Split",
    "build_mixture",
    "explicit_split",
    "leave_one_cluster_out",
]
