"""`rse attribute`'s typed results can be imported on their own, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys


def test_the_attribution_types_import_first_in_a_fresh_interpreter() -> None:
    code = (
        "from distillscope.rse.attribution.types import AttributionResult\n"
        "print(AttributionResult.model_fields['kind'].default)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr.splitlines()[-1:]
    assert done.stdout.strip() == "attribution"
