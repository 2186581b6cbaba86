"""Keep an API function reachable under the name of a submodule.

`distillscope.report` is both the report package and the `report()` function, and
`distillscope.rse.matrix` both a module and `matrix()`. Importing a submodule normally rebinds
the parent's attribute to the module; this makes the attribute a read-only property of the
package instead, so it stays the function (the module is still `sys.modules[...]`, which is what
`from distillscope.report import X` uses)."""

from __future__ import annotations

import sys
from typing import Any


def shadow(module_name: str, **functions: Any) -> None:
    module = sys.modules[module_name]

    def prop(value: Any) -> property:
        return property(lambda _self: value, lambda _self, _module: None)

    attrs = {name: prop(fn) for name, fn in functions.items()}
    module.__class__ = type(f"{module_name}.Package", (type(module),), attrs)
