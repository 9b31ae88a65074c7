"""What a notebook needs, read from the notebook itself, and judged against a kernel.

Two sources, both from the ``.ipynb`` JSON (no Jupyter import, no code run):

- **its imports**: every ``import x`` / ``from x.y import z`` of its code cells, found
  with ``ast`` (magics, shell lines and help lines are blanked first; a cell that still
  does not parse is skipped with a note). Imports inside functions count; an import
  guarded by ``except ImportError`` is *optional*. Standard-library and relative
  imports are not needs. Each module is mapped to the distribution that provides it:
  the kernel's own installed distributions first (what it really imports), then the
  shipped import-name table (``cv2`` -> opencv-python), else the module's own name.
- **its recorded dependencies**: a PEP 723 inline-metadata block in the first code cell,

      # /// script
      # requires-python = ">=3.11"
      # dependencies = ["pandas>=2", "pyyaml"]
      # ///

  the convention juv writes into notebooks. It is plain text in the notebook, so it
  travels with it through any tool, and it is a standard (PEP 723) that uv and pipx
  read for scripts. Recorded requirements win over guesses from imports.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import tomllib
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..environment import Environment
from ..errors import BadRequest

BLOCK = re.compile(
    r"^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$", re.MULTILINE
)
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}


@dataclass
class Need:
    """One distribution the notebook needs, why, and what the kernel has of it."""

    distribution: str
    requirement: str  # what to install: the recorded requirement, or the name
    source: str  # "recorded" | "import"
    modules: list[str] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    optional: bool = False
    state: str = "missing"  # missing | present | other-version
    installed_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution,
            "requirement": self.requirement,
            "source": self.source,
            "modules": sorted(self.modules),
            "cells": self.cells,
            "optional": self.optional,
            "state": self.state,
            "installed_version": self.installed_version,
        }


@dataclass
class Imported:
    module: str
    cell: int
    optional: bool


def code_cells(notebook: Mapping[str, Any]) -> list[tuple[int, str]]:
    """``(index, source)`` of every code cell (index among all cells, from 0)."""
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise BadRequest("This is not a notebook: it has no list of cells.")
    found = []
    for index, cell in enumerate(cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            found.append((index, "".join(source) if isinstance(source, list) else str(source)))
    return found


def python_source(source: str) -> str | None:
    """The cell as Python: magics, shell and help lines blanked; None for a cell
    magic that makes the cell another language (``%%bash``, ``%%html`` ...)."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].strip() != "%%" else ""
        if magic not in PYTHON_CELL_MAGICS:
            return None
        lines = lines[1:]
    out = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and "#" not in stripped):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass")
        elif re.match(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*[!%]", line):  # x = !ls
            out.append(line.split("=", 1)[0] + "= None")
        else:
            out.append(line)
    return "\n".join(out)


def imports_in(source: str, cell: int) -> list[Imported]:
    tree = ast.parse(source)
    optional_nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for inner in node.body:
                optional_nodes.update(id(n) for n in ast.walk(inner))
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        for module in modules:
            top = module.partition(".")[0]
            if top and top not in STDLIB:
                found.append(Imported(top, cell, id(node) in optional_nodes))
    return found


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type
    names = []
    if isinstance(kinds, ast.Tuple):
        names = [getattr(e, "id", None) for e in kinds.elts]
    elif kinds is not None:
        names = [getattr(kinds, "id", None)]
    return kinds is None or any(n in {"ImportError", "ModuleNotFoundError"} for n in names)


def recorded_block(notebook: Mapping[str, Any]) -> dict[str, Any] | None:
    """The PEP 723 ``script`` block of the first code cell, parsed; None if there is none."""
    cells = code_cells(notebook)
    if not cells:
        return None
    match = next((m for m in BLOCK.finditer(cells[0][1]) if m["type"] == "script"), None)
    if match is None:
        return None
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in match["content"].splitlines(keepends=True)
    )
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise BadRequest(f"The notebook's '# /// script' block is not valid TOML: {exc}") from exc
    return data


def render_block(requirements: Iterable[str], requires_python: str | None) -> str:
    """A PEP 723 block recording ``requirements`` (what "Record dependencies" writes)."""
    lines = ["# /// script"]
    if requires_python:
        lines.append(f'# requires-python = "{requires_python}"')
    reqs = sorted(set(requirements), key=str.lower)
    if reqs:
        lines.append("# dependencies = [")
        lines.extend(f'#   "{r}",' for r in reqs)
        lines.append("# ]")
    else:
        lines.append("# dependencies = []")
    lines.append("# ///")
    return "\n".join(lines)


def notebook_needs(
    notebook: Mapping[str, Any], env: Environment, import_names: Any
) -> dict[str, Any]:
    """The notebook's needs, each judged against ``env``: a JSON-ready dict.

    ``import_names``: an ``ImportNameMap`` (module -> distributions, most likely first).
    """
    notes: list[str] = []
    by_module: dict[str, list[Imported]] = {}
    for index, source in code_cells(notebook):
        code = python_source(source)
        if code is None:
            continue
        try:
            for found in imports_in(code, index):
                by_module.setdefault(found.module, []).append(found)
        except SyntaxError as exc:
            notes.append(f"Cell {index + 1} was skipped: it is not valid Python ({exc.msg}).")
    providers = _installed_providers(env)
    needs: dict[str, Need] = {}
    block = recorded_block(notebook)
    recorded = [str(r) for r in (block or {}).get("dependencies") or []]
    for text in recorded:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            notes.append(f"The recorded dependency {text!r} is not a valid requirement: {exc}.")
            continue
        key = canonicalize_name(req.name)
        needs[key] = Need(req.name, text, "recorded")
    for module, uses in sorted(by_module.items()):
        candidates = import_names.lookup(module)
        fallback = candidates[0] if candidates else canonicalize_name(module)
        dist: str = providers.get(module) or str(fallback)
        key = canonicalize_name(dist)
        need = needs.get(key) or needs.setdefault(key, Need(dist, dist, "import"))
        need.modules.append(module)
        need.cells = sorted({*need.cells, *(u.cell + 1 for u in uses)})
        need.optional = need.source == "import" and all(u.optional for u in uses)
    for need in needs.values():
        installed = env.installed(need.distribution)
        if installed is None:
            need.state = "missing"
            continue
        need.installed_version = installed.version
        spec = Requirement(need.requirement).specifier if need.source == "recorded" else None
        ok = spec is None or spec.contains(installed.version, prereleases=True)
        need.state = "present" if ok else "other-version"
    requires_python = (block or {}).get("requires-python")
    if isinstance(requires_python, str):
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            if not SpecifierSet(requires_python).contains(env.python_version):
                notes.append(
                    f"The notebook records requires-python {requires_python}; this kernel has "
                    f"Python {env.python_version}."
                )
        except InvalidSpecifier:
            notes.append(f"The recorded requires-python {requires_python!r} is not valid.")
    rows = sorted(needs.values(), key=lambda n: (n.state == "present", n.distribution.lower()))
    to_install = [n.requirement for n in rows if n.state != "present" and not n.optional]
    pins = [
        f"{n.distribution}=={n.installed_version}"
        for n in rows
        if n.installed_version is not None and n.state == "present"
    ]
    return {
        "recorded": block is not None,
        "needs": [n.to_json() for n in rows],
        "missing": to_install,
        "notes": notes,
        "record_block": render_block(
            pins + [n.requirement for n in rows if n.installed_version is None and not n.optional],
            f">={env.python_version.rsplit('.', 1)[0]}" if env.python_version else None,
        ),
    }


def _installed_providers(env: Environment) -> dict[str, str]:
    """Import name -> the installed distribution that provides it (the kernel's truth)."""
    out: dict[str, str] = {}
    for dist in env.distributions.values():
        for top in dist.top_level:
            out.setdefault(top, dist.name)
    return out
