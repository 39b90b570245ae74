"""The import rules `lint-imports` enforces (pyproject.toml), and our cycle contract itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.utils.import_contracts import find_cycles

ROOT = Path(__file__).resolve().parents[2]


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, source in modules.items():
        (package / f"{module}.py").write_text(source)


def _graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> grimp.ImportGraph:
    monkeypatch.syspath_prepend(str(tmp_path))
    return grimp.build_graph(name, cache_dir=None)


def test_a_loop_of_three_modules_is_found_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        "loopy",
        {
            "tasks": "from loopy import records\n",
            "records": "def enqueue():\n    from loopy import queue\n",  # hidden in a function
            "queue": "import loopy.tasks\n",
            "leaf": "import loopy.tasks\n",  # imports the loop without being part of it
        },
    )
    graph = _graph(tmp_path, monkeypatch, "loopy")
    modules = graph.find_descendants("loopy") | {"loopy"}
    assert find_cycles(graph, modules) == [
        ["loopy.queue", "loopy.tasks", "loopy.records", "loopy.queue"]
    ]


def test_modules_that_only_import_downward_have_no_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        "layered",
        {
            "tasks": "from layered import dispatch, recovery\n",
            "recovery": "from layered import dispatch\n",
            "dispatch": "from layered import records\n",
            "records": "",
        },
    )
    graph = _graph(tmp_path, monkeypatch, "layered")
    assert find_cycles(graph, graph.find_descendants("layered") | {"layered"}) == []


def test_two_separate_loops_are_both_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        "twice",
        {
            "a": "import twice.b\n",
            "b": "import twice.a\n",
            "c": "import twice.d\n",
            "d": "import twice.c\n",
        },
    )
    graph = _graph(tmp_path, monkeypatch, "twice")
    assert find_cycles(graph, graph.find_descendants("twice")) == [
        ["twice.a", "twice.b", "twice.a"],
        ["twice.c", "twice.d", "twice.c"],
    ]


def test_the_app_keeps_every_import_contract() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No import cycle between plain modules KEPT" in result.stdout
