"""Everything the app imports at run time is installed by requirements.txt alone.

`make run` installs requirements.txt without the dev tools. Jinja2 (the email templates) once
came only through a dev tool (Flask, via schemathesis), so the test suite passed while
`make run`'s worker failed to import. This walks every `import` in app/ and checks that the
distribution providing it is in the dependency closure of requirements.txt (and
requirements-nodeps.txt), as installed here."""

from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pinned(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonicalize_name(Requirement(line).name))
    return names


def _closure(roots: set[str]) -> set[str]:
    env = default_environment()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"app", "__future__"}


def test_every_runtime_import_comes_from_requirements_txt() -> None:
    installed = _closure(
        _pinned(ROOT / "requirements.txt") | _pinned(ROOT / "requirements-nodeps.txt")
    )
    providers = metadata.packages_distributions()
    missing = {}
    for module in sorted(_imported_top_levels()):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & installed:
            missing[module] = sorted(dists) or ["(not installed at all)"]
    assert not missing, f"imported by app/ but not installed by requirements.txt: {missing}"


def test_the_check_sees_a_dev_only_package() -> None:
    # The same walk must flag a dev tool: pytest is in requirements-dev.txt only.
    installed = _closure(_pinned(ROOT / "requirements.txt"))
    assert "pytest" not in installed
    assert "jinja2" in installed
