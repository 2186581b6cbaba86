"""Typed, versioned results: what every stage writes to results.json and `load` reads back.

    IceResult      ice run / ice rescore         kind "ice"
    RseResult      rse run                       kind "rse"
    MatrixResult   rse matrix                    kind "matrix"
    AnswersResult  models answer                 kind "answers"
    StudyResult    study                         kind "study"

New kinds plug in with `registry.register` (see there).
"""

from __future__ import annotations

from distillscope.results.answers import AnswersResult, FailedPrompt
from distillscope.results.base import SCHEMA_VERSION, Mean, Result, RunSummary, Score
from distillscope.results.ice import IceResult, IceScores, IceTarget
from distillscope.results.load import load, parse
from distillscope.results.registry import KINDS, register
from distillscope.results.rse import (
    Contrast,
    ContrastModel,
    MatrixResult,
    Missing,
    Paired,
    RseMissing,
    RseModelScores,
    RseResult,
)
from distillscope.results.study import StudyResult, StudyTarget

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "AnswersResult",
    "Contrast",
    "ContrastModel",
    "FailedPrompt",
    "IceResult",
    "IceScores",
    "IceTarget",
    "MatrixResult",
    "Mean",
    "Missing",
    "Paired",
    "Result",
    "RseMissing",
    "RseModelScores",
    "RseResult",
    "RunSummary",
    "Score",
    "StudyResult",
    "StudyTarget",
    "load",
    "parse",
    "register",
]
