"""What every results file shares: `kind`, `schema_version`, settings, run costs, completeness.

Result models accept fields they do not declare (`extra="allow"`) and write them back, so a file
written by a newer distillscope, or a field another stage adds, survives a load and a save.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = "1.0"  # results files of distillscope 0.1 carry no version: read by shape, as "0.1"


# Results files hold numbers rounded to 6 decimals: a point and its bounds, each rounded, may
# cross by half a unit of the last place each.
ROUNDING = 1e-6


def impossible(message: str) -> PydanticCustomError:
    """The error a validator raises for a value no run writes (its message is the one line shown)."""
    return PydanticCustomError("impossible_score", message)


def check_interval(
    point: float | None, n: int, interval: tuple[float | None, float | None], what: str = ""
) -> None:
    """What every score a run writes holds: n >= 0, an interval whose low end is not above its high
    end, and the point inside it. A hand-edited results.json that breaks one of them was read as it
    stood (`9.00 [12.00, -3.00] n=-4`); it is refused, as a NaN is, naming the field. `what` leads
    the message where the interval is not the field's only one (`unseen_ci95: `, `cell [0][1]: `)."""
    if n < 0:
        raise impossible(f"{what}n must not be negative, got {n}")
    lo, hi = interval
    if lo is None or hi is None:
        return
    if lo > hi + ROUNDING:
        raise impossible(f"{what}95% interval [{lo}, {hi}] has its low end above its high end")
    if point is not None and not lo - ROUNDING <= point <= hi + ROUNDING:
        raise impossible(f"{what}score {point} lies outside its 95% interval [{lo}, {hi}]")


def check_proportions(*values: float | None, what: str = "") -> None:
    """Each value a proportion (a rate, a probability, an interval's end): 0 to 1, to the 6 decimals
    files hold."""
    for value in values:
        if value is not None and not -ROUNDING <= value <= 1 + ROUNDING:
            raise impossible(f"{what}a proportion lies between 0 and 1; {value} is outside 0 to 1")


class Model(BaseModel):
    """Base of every results record: unknown fields are kept, not dropped."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class JudgeTransfer(Model):
    """How far the judge's expected rate moved between the models it was built from: the root mean
    square of logit(audited) - logit(expected) over `models` cross-fitted models."""

    logit_sd: float
    models: int

    @model_validator(mode="after")
    def _possible(self) -> JudgeTransfer:
        """A spread is not negative, and is measured between models (a weights file needs 2)."""
        if self.logit_sd < 0:
            raise impossible(f"logit_sd is a root mean square, never negative; got {self.logit_sd}")
        if self.models < 2:
            raise impossible(f"a spread between models is measured over 2 or more, got {self.models}")
        return self


class ExpectedRate(Model):
    """The mean of the judge's probabilities over the n judged responses, with a 95% interval
    (Wilson on (sum p, n): the spread of calibrated labels plus the sampling of answers; it does
    not cover miscalibration). `differs`: it and the thresholded score disagree by more than
    their intervals (neither interval holds the other's point). `unseen_ci95` (where the judge
    measured its `transfer`): the interval widened for a model the judge was not built from."""

    rate: float | None
    n: int
    ci95: tuple[float, float]
    differs: bool = False
    unseen_ci95: tuple[float, float] | None = None
    transfer: JudgeTransfer | None = None

    @model_validator(mode="after")
    def _possible(self) -> ExpectedRate:
        """As `Score`: a hand-edited expected rate of 1.7, or an interval upside down, was shown
        as it stood. The rate is a mean of probabilities inside its Wilson interval, and the unseen
        interval widens that interval, so it holds the rate too."""
        check_interval(self.rate, self.n, self.ci95)
        if self.unseen_ci95 is not None:
            check_interval(self.rate, self.n, self.unseen_ci95, "unseen_ci95: ")
        check_proportions(self.rate, *self.ci95, *(self.unseen_ci95 or ()))
        return self


class Score(Model):
    """A proportion: `count` of `n` judged responses, with its Wilson 95% interval (ICE), and,
    where the judge gives every verdict a probability, the `expected` rate (mean probability)."""

    score: float | None
    count: int
    n: int
    ci95: tuple[float, float]
    n_unsure: int | None = None  # responses the judge was unsure of (their best guess is in `count`)
    band: tuple[float | None, float | None] | None = None  # [every unsure a no, every unsure a yes]
    expected: ExpectedRate | None = None  # None: some judged verdict carries no probability

    @model_validator(mode="after")
    def _possible(self) -> Score:
        check_interval(self.score, self.n, self.ci95)
        if self.count < 0:
            raise impossible(f"count must not be negative, got {self.count}")
        if self.count > self.n:
            raise impossible(f"count {self.count} is more than n {self.n}")
        check_proportions(self.score, *self.ci95)
        if self.n_unsure is not None and not 0 <= self.n_unsure <= self.n:
            raise impossible(f"n_unsure {self.n_unsure} is not from 0 to n {self.n}")
        if self.band is not None:  # [every unsure a no, every unsure a yes]
            check_interval(None, self.n, self.band)
            check_proportions(*self.band)
        return self

    @property
    def k(self) -> int:
        return self.count

    @property
    def rate(self) -> float | None:
        return self.score

    def counted(self) -> str:
        """`count/n (95% CI lo-hi)` for terminal lines: a count is never shown without its n and interval."""
        if self.n == 0:
            return "0/0 (nothing judged)"
        return f"{self.count}/{self.n} (95% CI {self.ci95[0]:.3f}-{self.ci95[1]:.3f})"


class Mean(Model):
    """A mean with its n and bootstrap 95% interval (RSE similarity, paired differences, contrast).
    Bounds are None when n is 0, and when one prompt was scored on a scale with no known range
    (nothing to resample; on a known range one prompt gets a distribution-free interval)."""

    score: float | None
    n: int
    ci95: tuple[float | None, float | None] = (None, None)
    n_unjudged: int | None = None
    n_missing: int | None = None
    datasets: int | None = None  # an average over datasets: how many it weighs equally
    # the prompts the interval resampled, where fewer than n (a multi-turn prompt's turns are drawn together)
    n_prompts: int | None = None
    aspects: dict[str, Mean] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _possible(self) -> Mean:
        check_interval(self.score, self.n, self.ci95)
        return self

    def brief(self) -> str:
        """`2.76 [2.36, 3.17] n=5` for terminal lines: a mean is never shown without its interval and n."""
        if self.score is None:
            return f"n/a (n={self.n})"
        lo, hi = self.ci95
        interval = "" if lo is None or hi is None else f" [{lo:.2f}, {hi:.2f}]"
        prompts = f" ({self.n_prompts} prompts)" if self.n_prompts is not None else ""
        return f"{self.score:.2f}{interval} n={self.n}{prompts}"


class RunSummary(Model):
    """When the run ran, with what tool, and what it cost (calls, tokens, wall time)."""

    started_at: str | None = None
    finished_at: str | None = None
    tool_version: str | None = None
    totals: dict[str, Any] = Field(default_factory=dict)
    per_model: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Result(Model):
    """A results.json. Subclasses fix `kind` to a literal and register it (`results.registry`)."""

    kind: str
    schema_version: str = SCHEMA_VERSION
    settings: dict[str, Any] = Field(default_factory=dict)
    complete: bool = True
    stop_reason: str | None = None  # why an incomplete run stopped
    run: RunSummary = Field(default_factory=RunSummary)
    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The run directory this result was written to or loaded from."""
        return self._path

    def at(self, path: Path) -> Result:
        """This result, remembering its run directory (for `to_frame`) as an absolute path: a
        relative one named another folder once the working directory changed (`os.chdir`, a
        notebook's `%cd`), whose records `to_frame` then read."""
        self._path = Path(path).absolute()
        return self

    def write(self, path: Path) -> None:
        """DIR/results.json, atomically (a reader never sees half a file)."""
        from distillscope.engine.run import write_json

        self.schema_version = SCHEMA_VERSION  # the file is written in the current shape
        # through the one JSON writer, so secrets in URLs and headers are redacted like config.json
        write_json(Path(path) / "results.json", self.model_dump(mode="json", fallback=str))
        self.at(path)

    def to_frame(self) -> Any:
        """The run's per-item records as a pandas DataFrame (see each kind)."""
        raise TypeError(f"a {self.kind} result has no per-item records")
