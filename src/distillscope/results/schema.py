"""JSON Schema files of the result kinds: `python -m distillscope.results.schema [DIR]` writes
DIR/<kind>.schema.json (default docs/schema); a test checks the committed files match the models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from distillscope.results.registry import KINDS


def schemas() -> dict[str, str]:
    """File name -> text of every registered kind's schema."""
    import distillscope.results
    import distillscope.rse.attribution.types  # noqa: F401  (and `rse attribute`'s)

    return {
        f"{kind}.schema.json": json.dumps(cls.model_json_schema(by_alias=True), indent=2, sort_keys=True)
        + "\n"
        for kind, cls in sorted(KINDS.items())
    }


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schemas().items():
        (directory / name).write_text(text, encoding="utf-8")
        written.append(directory / name)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")):
        print(path)
