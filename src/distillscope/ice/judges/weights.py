"""The scorer's weights file: numbers only, versioned and checksummed.

Layout (little-endian): the magic `DSJW`, the format version (uint32), the header length (uint32),
a JSON header (the feature configuration, each head's intercept, Platt parameters, array
lengths and, where measured, how far its expected rate moved between models (`Transfer`), the
doubt band), the arrays (per head, loose then strict: signal weights float32, text
bucket indices uint32 and weights float32, prompt bucket indices and weights), then the SHA-256 of
everything before it. No text of any response, template or name is in it: buckets are hashes.

`scripts/build_judge_weights.py` rebuilds the shipped file byte for byte from ../shared/data and
the labels in bench/data. A corrupt, truncated, other-version or mismatched file is a `UserError`
naming the file: nothing is judged with it.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
from array import array
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from distillscope.errors import UserError, clip
from distillscope.ice.judges.signals.features import FeatureConfig
from distillscope.records import check_file

MAGIC = b"DSJW"
FORMAT_VERSION = 1
HEADS = ("loose", "strict")
BUILTIN = "judge-weights.bin"  # in distillscope/ice/data


@dataclass(frozen=True)
class Transfer:
    """How far the expected rate moved between the models the weights were built from: the root
    mean square, over `models` cross-fitted models, of logit(audited rate) - logit(expected rate) of
    each one's run (`logit_sd`), and the error a new model's rate may have at 95% (`shift95`: a t
    quantile with `models` degrees of freedom times `logit_sd`; calibration.widen). An optional
    header field: a file without it still loads (its expected rates carry no transfer interval)."""

    logit_sd: float
    models: int
    shift95: float


@dataclass(frozen=True)
class Head:
    """One label's linear scorer and its calibration."""

    intercept: float
    signals: array[float]  # float32, one per signal
    text_index: array[int]  # uint32 buckets with a weight
    text_weight: array[float]  # float32
    template_index: array[int]
    template_weight: array[float]
    platt: tuple[float, float]
    transfer: Transfer | None = None


@dataclass(frozen=True)
class ScorerWeights:
    config: FeatureConfig
    heads: dict[str, Head]
    doubt: tuple[float, float]  # p_loose strictly inside this band: the verdict is unsure
    source: str = "<memory>"

    def to_bytes(self) -> bytes:
        header: dict[str, Any] = {
            "config": self.config.as_dict(),
            "doubt": [_num(x) for x in self.doubt],
            "heads": {
                name: {
                    "intercept": _num(h.intercept),
                    "platt": [_num(h.platt[0]), _num(h.platt[1])],
                    "text": len(h.text_index),
                    "template": len(h.template_index),
                    **({} if h.transfer is None else {"transfer": _transfer_header(h.transfer)}),
                }
                for name, h in self.heads.items()
            },
        }
        head_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")
        parts = [MAGIC, struct.pack("<II", FORMAT_VERSION, len(head_bytes)), head_bytes]
        for name in HEADS:
            h = self.heads[name]
            parts += [
                _le(h.signals),
                _le(h.text_index),
                _le(h.text_weight),
                _le(h.template_index),
                _le(h.template_weight),
            ]
        body = b"".join(parts)
        return body + hashlib.sha256(body).digest()

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> ScorerWeights:
        def bad(why: str) -> UserError:
            return UserError(f"{source}: not a usable judge weights file ({why}); nothing was judged")

        if len(data) < 12 + 32 or data[:4] != MAGIC:
            raise bad("no DSJW header")
        body, digest = data[:-32], data[-32:]
        version, length = struct.unpack("<II", body[4:12])
        if version != FORMAT_VERSION:
            raise bad(f"format version {version}, this distillscope reads version {FORMAT_VERSION}")
        if hashlib.sha256(body).digest() != digest:
            raise bad("checksum mismatch: the file is corrupt or was edited")
        try:
            header = json.loads(body[12 : 12 + length].decode("ascii"))
            config = FeatureConfig()
            if header["config"] != config.as_dict():
                raise bad("made for another feature configuration than the one this distillscope makes")
            offset = 12 + length
            heads: dict[str, Head] = {}
            for name in HEADS:
                meta = header["heads"][name]

                def take(code: str, count: Any) -> array[Any]:
                    nonlocal offset
                    if not isinstance(count, int) or isinstance(count, bool):
                        raise bad(f"a count of weights that is not a whole number: {count!r}")
                    arr = array(code)
                    size = arr.itemsize * count
                    if count < 0 or offset + size > len(body):
                        raise bad("truncated")
                    arr.frombytes(body[offset : offset + size])
                    if sys.byteorder == "big":
                        arr.byteswap()
                    offset += size
                    return arr

                signals = take("f", config.as_dict()["signals"])
                t_idx, t_w = take("I", meta["text"]), take("f", meta["text"])
                p_idx, p_w = take("I", meta["template"]), take("f", meta["template"])
                if (t_idx and max(t_idx) >= 1 << config.text_bits) or (
                    p_idx and max(p_idx) >= 1 << config.template_bits
                ):
                    raise bad("a bucket index out of range")
                heads[name] = Head(
                    float(meta["intercept"]), signals, t_idx, t_w, p_idx, p_w,
                    (float(meta["platt"][0]), float(meta["platt"][1])),
                    _read_transfer(meta["transfer"]) if "transfer" in meta else None,
                )  # fmt: skip
            if offset != len(body):
                raise bad("trailing bytes")
            lo, hi = (float(x) for x in header["doubt"])
        except UserError:
            raise
        # OverflowError: a number too large for a float (an intercept of 1e400 written as an integer)
        except (KeyError, TypeError, ValueError, OverflowError, UnicodeDecodeError) as exc:
            raise bad(f"malformed header: {clip(str(exc), 120)}") from exc  # a value it quotes may be 2 MB
        except RecursionError:  # a header nested past Python's recursion limit: was a traceback
            raise bad("malformed header: nested too deep") from None
        numbers = [
            x
            for h in heads.values()
            for x in (h.intercept, *h.platt, *h.signals, *h.text_weight, *h.template_weight)
        ]
        if not all(map(math.isfinite, numbers)) or not (0.0 <= lo <= 0.5 <= hi <= 1.0):
            raise bad("a weight that is not a finite number, or a doubt band outside [0, 1]")
        for h in heads.values():
            t = h.transfer
            if t is not None and not (
                math.isfinite(t.logit_sd)
                and math.isfinite(t.shift95)
                and 0.0 <= t.logit_sd <= t.shift95 <= 20.0
            ):
                raise bad("a transfer spread that is not a finite logit shift in [0, 20]")
        return cls(config, heads, (lo, hi), source)

    @classmethod
    def load(cls, path: str | Path) -> ScorerWeights:
        path = Path(path)
        check_file(path, "judge weights file")  # a FIFO would block the read for ever
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{path}: cannot read the judge weights file ({exc.strerror or exc})") from exc
        return cls.from_bytes(data, str(path))


def _transfer_header(t: Transfer) -> dict[str, float | int]:
    return {"logit_sd": _num(t.logit_sd), "models": int(t.models), "shift95": _num(t.shift95)}


def _read_transfer(meta: dict[str, Any]) -> Transfer:
    models = meta["models"]
    if not isinstance(models, int) or models < 2:
        raise ValueError(f"transfer measured on {models!r} models (at least 2)")
    return Transfer(float(meta["logit_sd"]), models, float(meta["shift95"]))


def _le(values: array[Any]) -> bytes:
    """An array's bytes, little-endian whatever the machine."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _num(x: float) -> float:
    """A float as the file stores it: 9 significant digits, so a rebuild is byte for byte."""
    return float(f"{float(x):.9g}")


@cache
def builtin_weights() -> ScorerWeights:
    """The weights shipped in the package (read once per process)."""
    ref = resources.files("distillscope.ice").joinpath("data", BUILTIN)
    return ScorerWeights.from_bytes(ref.read_bytes(), f"distillscope/ice/data/{BUILTIN}")


def builtin_path() -> Path:
    return Path(str(resources.files("distillscope.ice").joinpath("data", BUILTIN)))
