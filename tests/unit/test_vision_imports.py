"""The offline analyzer stands on its own: it measures pixels without the demo data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_loaded_by(statement: str) -> set[str]:
    # A fresh interpreter: in this test process other tests may have imported anything already.
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_importing_the_vision_package_does_not_import_the_demo() -> None:
    loaded = _modules_loaded_by("import app.services.analyzer.vision")
    assert "app.services.analyzer.vision.analyzer" in loaded  # the whole analyzer did load
    assert sorted(m for m in loaded if m.startswith("app.services.demo")) == []


def test_the_demo_measures_with_the_vision_package() -> None:
    loaded = _modules_loaded_by("import app.services.demo.prompts")
    assert "app.services.analyzer.vision.pixel_stats" in loaded
    assert "app.services.analyzer.vision.palette" in loaded
