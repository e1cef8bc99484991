"""Writes the Python package's API reference (Markdown) from its docstrings and signatures.

    /usr/bin/python3 python/tools/api_reference.py > python/API.md

scripts/gen-python runs it and scripts/test checks the committed copy is current, so the reference never drifts from
the code. Only what `dspy_agent_client.__all__` exports is documented, in that order, with each public method.
"""
from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dspy_agent_client as package  # noqa: E402


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "").strip()


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    # Annotations are strings (`from __future__ import annotations`): show them unquoted.
    return re.sub(r"(: |-> )'([^']*)'", r"\1\2", text)


def _members(cls: type) -> list:
    out = []
    for name, member in cls.__dict__.items():
        if name.startswith("_") and name not in ("__init__",):
            continue
        if isinstance(member, property):
            out.append((name, member, "property"))
        elif inspect.isfunction(member):
            out.append((name, member, "async method" if inspect.iscoroutinefunction(member) else "method"))
    return out


def render() -> str:
    lines = [
        "# dspy_agent_client API reference",
        "",
        "Generated from the package's docstrings by `python/tools/api_reference.py` (run by `scripts/gen-python`);",
        "do not edit by hand. The README's \"From Python\" section is the tutorial; this is the reference.",
        "",
        # The module docstring as written: its example is indented relative to column 0, which cleandoc would undo.
        (package.__doc__ or "").strip("\n"),
        "",
    ]
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.isclass(obj):
            bases = [b.__name__ for b in obj.__bases__ if b is not object]
            lines += [f"## class `{name}`" + (f" ({', '.join(bases)})" if bases else ""), ""]
            if obj.__init__ is not object.__init__ and inspect.isfunction(obj.__init__):
                lines += ["```python", f"{name}{_signature(obj.__init__).replace('(self, ', '(').replace('(self)', '()')}",
                          "```", ""]
            if _doc(obj):
                lines += [_doc(obj), ""]
            for member_name, member, kind in _members(obj):
                if member_name == "__init__":
                    continue
                if kind == "property":
                    lines += [f"### `{name}.{member_name}` (property)", "", _doc(member.fget) or "", ""]
                    continue
                signature = _signature(member).replace("(self, ", "(").replace("(self)", "()")
                prefix = "async " if kind == "async method" else ""
                lines += [f"### `{prefix}{name}.{member_name}{signature}`", ""]
                if _doc(member):
                    lines += [_doc(member), ""]
        else:
            lines += [f"## `{name}{_signature(obj)}`", "", _doc(obj), ""]
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
