"""Identity Consistency Evaluation. `run` and `rescore` are the Python API (`ice run`, `ice rescore`)."""

from distillscope._api import ice_rescore as rescore
from distillscope._api import ice_rescore_async as rescore_async
from distillscope._api import ice_run as run
from distillscope._api import ice_run_async as run_async

__all__ = ["rescore", "rescore_async", "run", "run_async"]
