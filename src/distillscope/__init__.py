"""distillscope: measure how far a language model was distilled from another.

The Python API mirrors the CLI; each command that calls models has an `_async` twin::

    import distillscope as ds

    result = ds.ice.rescore("log.jsonl", target_org="Zhipu AI", judge="recorded", out="runs/x")
    result.scores.loose.ci95
    ds.load("runs/x").to_frame()          # the verdicts as a pandas DataFrame

    ds.ice.run(target, ...)               ds.rse.run(reference, tests, datasets, ...)
    ds.rse.matrix(models, datasets, ...)  ds.models.answer(model, prompts, ...)
    ds.report(dirs, out="study.html")     ds.study("study.yaml", out="runs/study")

Importing distillscope is cheap: subpackages and their dependencies load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from distillscope import _api
from distillscope._shadow import shadow
from distillscope.errors import UserError

if TYPE_CHECKING:
    from distillscope import ice, models, results, rse

__version__ = "0.1.0"

load = _api.load
report = _api.report
study = _api.study
study_async = _api.study_async

_SUBPACKAGES = ("ice", "models", "results", "rse")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"distillscope.{name}")
    raise AttributeError(f"module 'distillscope' has no attribute {name!r}")


shadow(__name__, report=_api.report)

__all__ = [
    "UserError",
    "__version__",
    "ice",
    "load",
    "models",
    "report",
    "results",
    "rse",
    "study",
    "study_async",
]
