"""Response Similarity Evaluation. `run` and `matrix` are the Python API (`rse run`, `rse matrix`)."""

from distillscope._api import rse_matrix as matrix
from distillscope._api import rse_matrix_async as matrix_async
from distillscope._api import rse_run as run
from distillscope._api import rse_run_async as run_async
from distillscope._shadow import shadow

shadow(__name__, matrix=matrix)  # the module rse/matrix.py must not replace the function

__all__ = ["matrix", "matrix_async", "run", "run_async"]
