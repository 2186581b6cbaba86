"""How sure a verdict is: the probability that a response is a loose / strict contradiction.

Every verdict that has one keeps `loose == (p_loose >= 0.5)` and `strict == (p_strict >= 0.5)`,
and p_strict <= p_loose (a strict contradiction is a loose one).

* LLM judges: from the structured reply's yes/no and its `sure` flag, through a table of four
  cells per label (yes+sure, yes+unsure, no+sure, no+unsure). The built-in table
  (`DEFAULT_TABLE`) is a convention, NOT a calibration: it only orders sure answers away from 0.5
  and unsure ones near it. A calibration file (`--judge-calibration FILE`, see `Calibration`)
  replaces it with frequencies measured against a person's labels (`ice audit calibrate`).
* A verdict without a probability (recorded labels, a judge that gives none) has `p_loose` None;
  `doubt_p` still ranks it for escalation and audit sampling (unsure near 0.5, sure at the ends,
  with the same uncalibrated table), but expected rates are only computed from real ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillscope.errors import UserError, clip
from distillscope.ice.types import Verdict
from distillscope.jsonsafe import DuplicateKey, unique_keys
from distillscope.records import check_file

CALIBRATION_FORMAT = "distillscope.judge-calibration"
CALIBRATION_VERSION = 1
CELLS = ("yes_sure", "yes_unsure", "no_sure", "no_unsure")
# A yes is never given less than this, nor a no more than 1 - this: a calibration may bring an
# answer to the edge of doubt, never reverse it (the verdict's booleans stay the judge's).
EDGE = 0.5
NO_EDGE = 0.4999

# The uncalibrated convention: sure answers far from 0.5, unsure ones just on their side of it.
DEFAULT_TABLE: dict[str, float] = {"yes_sure": 0.95, "yes_unsure": 0.6, "no_sure": 0.05, "no_unsure": 0.4}


def cell(answer: bool, sure: bool) -> str:
    return f"{'yes' if answer else 'no'}_{'sure' if sure else 'unsure'}"


def _clip(answer: bool, p: float) -> float:
    return max(EDGE, p) if answer else min(NO_EDGE, p)


@dataclass(frozen=True)
class Calibration:
    """The probability of each (answer, sure) cell, per label: from a versioned JSON file or the
    built-in convention. `source` says which (shown in results as the judge's `probability`)."""

    loose: dict[str, float]
    strict: dict[str, float]
    source: str = "uncalibrated default (sure 0.95/0.05, unsure 0.6/0.4)"
    calibrated: bool = False
    judge: str | None = None  # the judge a calibration file was fitted for (its "judge")

    def probabilities(self, loose: bool, strict: bool, sure: bool) -> tuple[float, float]:
        """(p_loose, p_strict) of a verdict, consistent with its booleans."""
        p_loose = _clip(loose, self.loose[cell(loose, sure)])
        p_strict = _clip(strict, self.strict[cell(strict, sure)])
        # strict is a kind of loose; the min keeps both sides of 0.5 (strict implies loose)
        return round(p_loose, 6), round(min(p_strict, p_loose), 6)

    def to_json(self, *, judge: str | None = None, n: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "format": CALIBRATION_FORMAT,
            "version": CALIBRATION_VERSION,
            "judge": judge,
            "source": self.source,
            "loose": self.loose,
            "strict": self.strict,
            **({"n": n} if n is not None else {}),
        }


DEFAULT = Calibration(dict(DEFAULT_TABLE), dict(DEFAULT_TABLE))


def _table(path: Path, data: dict[str, Any], label: str) -> dict[str, float]:
    table = data.get(label)
    if not isinstance(table, dict) or set(table) != set(CELLS):
        raise UserError(f"{path}: field '{label}': expected an object with the keys {', '.join(CELLS)}")
    out: dict[str, float] = {}
    for key in CELLS:
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise UserError(
                f"{path}: field '{label}.{key}': expected a probability in [0, 1], got {clip(repr(value))}"
            )
        out[key] = float(value)
    return out


def load_calibration(path: str | Path) -> Calibration:
    """A judge-calibration file (see `Calibration.to_json`); a wrong version, a missing cell or a
    value outside [0, 1] is a UserError naming the file, before anything is judged."""
    path = Path(path)
    check_file(path, "judge calibration file")  # a FIFO would block the read for ever
    try:
        # utf-8-sig: a calibration saved by an editor that writes a byte-order mark (Notepad) reads
        data = json.loads(path.read_text(encoding="utf-8-sig"), object_pairs_hook=unique_keys)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the judge calibration ({exc.strerror or exc})") from None
    except DuplicateKey as exc:  # `"yes_sure"` twice: json.loads kept the last without a word
        raise UserError(
            f"{path}: field '{clip(exc.key)}': given twice in one object of the judge calibration: keep one value"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: the judge calibration is not JSON ({exc})") from None
    except RecursionError:  # `[[[[...` past Python's recursion limit: was a traceback
        raise UserError(f"{path}: the judge calibration is not JSON (nested too deep)") from None
    except ValueError:  # a number of over 4,300 digits, which int() refuses: was a traceback
        raise UserError(
            f"{path}: the judge calibration is not JSON (a number of over 4,300 digits)"
        ) from None
    if not isinstance(data, dict) or data.get("format") != CALIBRATION_FORMAT:
        raise UserError(f'{path}: not a judge calibration (expected "format": "{CALIBRATION_FORMAT}")')
    version = data.get("version")
    if version != CALIBRATION_VERSION or isinstance(version, bool):  # true == 1 in Python, not in the file
        raise UserError(
            f"{path}: judge calibration version {clip(repr(version))}; this distillscope reads version "
            f"{CALIBRATION_VERSION}"
        )
    return Calibration(
        _table(path, data, "loose"),
        _table(path, data, "strict"),
        source=f"calibrated ({path.name})",
        calibrated=True,
        judge=data["judge"] if isinstance(data.get("judge"), str) else None,
    )


def fit_calibration(
    rows: list[tuple[bool, bool, bool, bool, bool, float]], *, prior: float = 1.0
) -> tuple[Calibration, dict[str, dict[str, float]]]:
    """A calibration from labelled verdicts: each row (judge loose, judge strict, judge sure,
    label loose, label strict, weight). Each cell's probability is the weighted share of labels
    that are true in it, smoothed towards the default with `prior` pseudo-rows (Beta prior);
    the weights are the audit design's (rows a stratum stands for per sampled row), normalised
    to the sampled count, so an oversampled stratum does not dominate. Returns the table and the
    labelled rows per cell."""
    total = sum(r[5] for r in rows) or 1.0
    scale = len(rows) / total
    tables: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, float]] = {}
    for label, judged, truth in (("loose", 0, 3), ("strict", 1, 4)):
        table: dict[str, float] = {}
        count: dict[str, float] = {}
        for key in CELLS:
            mine = [r for r in rows if cell(bool(r[judged]), bool(r[2])) == key]
            w = sum(r[5] * scale for r in mine)
            yes = sum(r[5] * scale for r in mine if r[truth])
            table[key] = round((yes + prior * DEFAULT_TABLE[key]) / (w + prior), 6)
            count[key] = round(w, 3)
        tables[label], counts[label] = table, count
    calibration = Calibration(
        tables["loose"], tables["strict"], source=f"fitted to {len(rows)} labelled rows", calibrated=True
    )
    return calibration, counts


def doubt_p(verdict: Verdict | None) -> float:
    """The p_loose that ranks a verdict's doubt: its own where it has one; else the default table
    from its answer and unsure flag; an unjudged verdict sits at 0.5 (the most doubtful)."""
    if verdict is None or verdict.loose is None:
        return 0.5
    if verdict.p_loose is not None:
        return verdict.p_loose
    return DEFAULT_TABLE[cell(verdict.loose, not verdict.unsure)]


def certainty(p: float) -> float:
    """Distance from a coin toss: 0 at p = 0.5, 1 at p = 0 or 1."""
    return abs(p - 0.5) * 2.0
