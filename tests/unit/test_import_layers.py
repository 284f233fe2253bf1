"""The package's structure, as README's "Layers" table declares it, checked on every import.

README.md lists the layers from the top (the edges) to the bottom (shared
errors), each as a row of packages. A module may import modules of its own
layer and of the layers below; never one above. Within the services and the
domain, packages are listed in the order they may call each other: a package
may import only those after it in its row. Adapters are known to the
composition root alone. And no two packages import each other, directly or
round a longer circle.

The table is read from README.md, so the document and the code cannot drift.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "steppe"
README = ROOT / "README.md"

LAYERS_HEADING = "### Layers"


def declared_layers() -> list[list[str]]:
    """The README table's rows: each a list of module prefixes, in the order they may call."""
    text = README.read_text(encoding="utf-8")
    start = text.index(LAYERS_HEADING)
    rows: list[list[str]] = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or set(cells[1]) <= {"-", " "}:
            continue
        if cells[0].lower() == "layer":
            continue
        rows.append(re.findall(r"`(steppe[\w.]*)`", cells[1]))
    return rows


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every steppe module (or name in one) that the file imports, at any depth."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {module for module in found if module == "steppe" or module.startswith("steppe.")}


def all_modules() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


class Placement:
    """Where each module sits: (layer index, position in its row), by its longest prefix."""

    def __init__(self, layers: list[list[str]]) -> None:
        self.prefixes = {
            prefix: (layer, position)
            for layer, row in enumerate(layers)
            for position, prefix in enumerate(row)
        }

    def prefix_of(self, module: str) -> str | None:
        candidates = [p for p in self.prefixes if module == p or module.startswith(p + ".")]
        return max(candidates, key=len) if candidates else None

    def of(self, module: str) -> tuple[int, int] | None:
        prefix = self.prefix_of(module)
        return None if prefix is None else self.prefixes[prefix]


ADAPTERS = ("steppe.store.sqlite", "steppe.store.aws")
COMPOSITION_ROOT = "steppe.runtime"


def test_readme_declares_layers_covering_every_module() -> None:
    layers = declared_layers()
    assert len(layers) >= 5, f"README's {LAYERS_HEADING} table has {len(layers)} rows"
    placement = Placement(layers)
    unplaced = [m for m in all_modules() if m != "steppe" and placement.of(m) is None]
    assert not unplaced, f"modules in no layer of README's table: {unplaced}"


def test_no_module_imports_a_layer_above_it() -> None:
    placement = Placement(declared_layers())
    upward = []
    for module, targets in all_modules().items():
        here = placement.of(module)
        if here is None:
            continue
        for target in targets:
            there = placement.of(target)
            if there is None or placement.prefix_of(target) == placement.prefix_of(module):
                continue
            if there < here:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that point up the layers:\n" + "\n".join(sorted(upward))


def test_adapters_are_known_to_the_composition_root_alone() -> None:
    known = [
        f"{module} -> {target}"
        for module, targets in all_modules().items()
        for target in targets
        if target.startswith(ADAPTERS)
        and not module.startswith(ADAPTERS)
        and module != COMPOSITION_ROOT
    ]
    assert not known, "adapters imported outside the composition root:\n" + "\n".join(known)


def package_graph() -> dict[str, set[str]]:
    """Imports between packages (a package's modules taken together), subpackages apart."""
    modules = all_modules()

    def package_of(module: str) -> str:
        if module in modules and (PACKAGE.parent / module.replace(".", "/")).is_dir():
            return module
        return module.rsplit(".", 1)[0] if "." in module else module

    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in modules.items():
        source = package_of(module)
        for target in targets:
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            destination = package_of(target)
            if destination != source and destination != "steppe":
                graph[source].add(destination)
    return graph


def test_no_circles_between_packages() -> None:
    graph = package_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "circles between packages:\n" + "\n".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("steppe.handlers.api", "steppe.ingest.submission_intake", True),
        ("steppe.ingest.submission_intake", "steppe.handlers.api", False),
        ("steppe.stix.tlp", "steppe.store.port", False),
        ("steppe.correlate.engine", "steppe.ingest.submission_intake", False),
    ],
)
def test_the_rule_itself_tells_up_from_down(source: str, target: str, allowed: bool) -> None:
    placement = Placement(declared_layers())
    here, there = placement.of(source), placement.of(target)
    assert here is not None and there is not None
    assert (there >= here) is allowed


STORE_MIRRORS = ("steppe/store/port/", "steppe/store/sqlite/", "steppe/store/aws/")


def test_module_names_are_unique_but_for_a_port_and_its_adapters() -> None:
    """A module's name says what it is: two modules never share one, except a port and the
    modules of its two adapters (store/port/x.py, store/sqlite/x.py, store/aws/x.py)."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in PACKAGE.rglob("*.py"):
        if path.name != "__init__.py":
            by_name[path.stem].append(path.relative_to(PACKAGE.parent).as_posix())
    shared = {
        name: paths
        for name, paths in by_name.items()
        if len(paths) > 1 and not all(path.startswith(STORE_MIRRORS) for path in paths)
    }
    assert not shared, f"module names used twice: {shared}"
