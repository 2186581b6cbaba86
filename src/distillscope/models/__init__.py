"""Model backends. `answer` is the Python API of `models answer`."""

from distillscope._api import models_answer as answer
from distillscope._api import models_answer_async as answer_async

__all__ = ["answer", "answer_async"]
