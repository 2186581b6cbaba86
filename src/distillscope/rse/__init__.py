"""Response Similarity Evaluation. `run`, `matrix` and `attribute` are the Python API (`rse run`,
`rse matrix`, `rse attribute`)."""

from distillscope._api import rse_attribute as attribute
from distillscope._api import rse_attribute_async as attribute_async
from distillscope._api import rse_matrix as matrix
from distillscope._api import rse_matrix_async as matrix_async
from distillscope._api import rse_run as run
from distillscope._api import rse_run_async as run_async
from distillscope._shadow import shadow

shadow(__name__, matrix=matrix)  # the module rse/matrix.py must not replace the function

__all__ = ["attribute", "attribute_async", "matrix", "matrix_async", "run", "run_async"]
