"""`python -m app.cli generate PROMPT --model ID ...`: the real command in a subprocess, against
Together's and Fal's loopback fakes; the written files are read back with metadata.read.

Every failure must be one `error: ...` line on stderr, a non-zero exit, no traceback and no
file left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session

from app.services.core.models import Prompt
from app.services.generation import metadata
from app.services.library.writes import add_version, create_prompt
from app.settings import Settings
from tests.utils.fakes import fal_queue_server, together_server
from tests.utils.fakes.fal_queue_server import FakeFalQueueServer
from tests.utils.fakes.together_server import FakeTogetherServer
from tests.utils.job_helpers import make_user
from tests.utils.prompt_factories import prompt_data

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = "jsoncraft/layout-preview"
SCHNELL = "black-forest-labs/FLUX.1-schnell"
LIGHTHOUSE = prompt_data(
    "A lighthouse on a cliff at dusk",
    color_palette=[{"hex": "#1b2a49"}, {"hex": "#e8a33d"}],
    text_render=[{"text": "HOLD FAST", "position": "bottom center"}],
)


def run_cli(
    settings: Settings, cwd: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(settings.data_dir.resolve()),
        "LOG_JSON": "false",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def written(line: str) -> tuple[Path, str, int, tuple[int, int]]:
    """`PATH  MODEL  seed S  WxH` -> its parts."""
    path, model, seed_word, seed, size = line.split()
    assert seed_word == "seed"
    width, height = size.split("x")
    return Path(path), model, int(seed), (int(width), int(height))


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "lighthouse.json"
    path.write_text(json.dumps(LIGHTHOUSE), encoding="utf-8")
    return path


@pytest.fixture
def saved(session: Session) -> Prompt:
    ada = make_user(session, "ada@example.com")
    assert ada.id is not None
    prompt = create_prompt(session, owner_id=ada.id, title="Lighthouse", data=LIGHTHOUSE)
    assert prompt.id is not None
    night = prompt_data("A windmill in fog at night", color_palette=[{"hex": "#222222"}])
    add_version(session, prompt_id=prompt.id, author_id=ada.id, data=night, message="v2")
    session.commit()
    return prompt


@pytest.fixture
def together() -> Any:
    yield from together_server.serve()


@pytest.fixture
def fal() -> Any:
    yield from fal_queue_server.serve()


def together_env(server: FakeTogetherServer) -> dict[str, str]:
    return {"TOGETHER_BASE_URL": server.base_url, "TOGETHER_API_KEY": together_server.KEY}


def fal_env(server: FakeFalQueueServer) -> dict[str, str]:
    return {
        "FAL_QUEUE_URL": server.url,
        "FAL_KEY": fal_queue_server.KEY,
        "FAL_POLL_INTERVAL_SECONDS": "0",
    }


def test_offline_from_a_json_file_writes_images_with_their_metadata(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path
) -> None:
    out = tmp_path / "out" / "nested"  # created when missing
    done = run_cli(
        isolated_settings, tmp_path, str(prompt_file), "--model", OFFLINE, "--n", "2",
        "--seed", "7", "--aspect", "16:9", "--preset", "film-noir", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    seeds = []
    for line in lines:
        path, model, seed, (width, height) = written(line)
        assert path.parent == out and path.suffix == ".png" and model == OFFLINE
        data = path.read_bytes()
        with Image.open(path) as image:
            assert image.size == (width, height)
        assert width > height  # 16:9
        found = metadata.read(data)
        assert found is not None
        assert (found.model, found.provider, found.seed) == (OFFLINE, "offline", seed)
        assert (found.width, found.height) == (width, height)
        assert found.preset is not None and "noir" in found.preset
        assert '"HOLD FAST"' in found.prompt_sent and found.prompt_format == "json"
        assert found.prompt_id is None
        seeds.append(seed)
    assert seeds == [7, 8]
    assert sorted(p.name for p in out.iterdir()) == sorted(written(x)[0].name for x in lines)


def test_together_from_a_saved_prompt_id_in_the_current_folder(
    isolated_settings: Settings, tmp_path: Path, saved: Prompt, together: FakeTogetherServer
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    done = run_cli(
        isolated_settings, here, str(saved.id), "--model", "flux-schnell", "--seed", "5",
        "--aspect", "3:2", **together_env(together),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    path, model, seed, (width, height) = written(line)
    assert model == SCHNELL and seed == 5 and width % 16 == 0 and height % 16 == 0
    assert (here / path).is_file()  # default DIR: the current folder
    found = metadata.read((here / path).read_bytes())
    assert found is not None
    assert (found.provider, found.model, found.seed) == ("together", SCHNELL, 5)
    assert (found.prompt_id, found.prompt_version) == (saved.id, 2)  # its current version
    assert found.request_id and found.request_id.startswith("tg-")
    assert "windmill" in found.prompt_sent.lower()  # FLUX.1 takes prose of version 2
    (post,) = [r for r in together.requests if r.method == "POST"]
    assert (post.body["seed"], post.body["n"], post.body["width"]) == (5, 1, width)
    assert post.body["prompt"] == found.prompt_sent


def test_fal_queue_model_through_its_queue(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path, fal: FakeFalQueueServer
) -> None:
    done = run_cli(
        isolated_settings, tmp_path, str(prompt_file), "--model", "fal-ai/flux/schnell",
        "--n", "2", "--seed", "11", "--out", "imgs", **fal_env(fal),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [written(line)[2] for line in lines] == [11, 12]
    for line in lines:
        found = metadata.read((tmp_path / written(line)[0]).read_bytes())
        assert found is not None and found.model == "fal-ai/flux/schnell"
        assert found.request_id in fal.queued  # the request id Fal's queue gave
    submits = [r for r in fal.requests if r.method == "POST"]
    assert [s.body["seed"] for s in submits] == [11, 12]


def test_help_says_it_uses_no_queue_and_no_credits(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    shown = run_cli(isolated_settings, tmp_path, "--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    assert "no job queue and no credits" in text and "PROMPT" in text and "--aspect W:H" in text


def assert_one_line_failure(
    done: subprocess.CompletedProcess[str], out: Path, *, says: str, code: int | None = None
) -> None:
    assert done.returncode != 0, done.stdout
    if code is not None:
        assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert says.lower() in lines[0].lower(), lines[0]
    assert done.stdout == ""
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("model", "env", "says"),
    [
        ("nope/not-a-model", {}, "Unknown model"),
        ("flux-schnell", {}, "Set TOGETHER_API_KEY"),
        ("fal-ai/flux/dev", {}, "FAL_KEY"),
    ],
)
def test_unknown_model_or_missing_key(
    isolated_settings: Settings,
    tmp_path: Path,
    prompt_file: Path,
    model: str,
    env: dict[str, str],
    says: str,
) -> None:
    out = tmp_path / "out"
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", model,
                   "--out", str(out), **env)  # fmt: skip
    assert_one_line_failure(done, out, says=says, code=2)


def test_bad_prompts_are_refused_before_any_call(
    isolated_settings: Settings, tmp_path: Path, db_url: str, together: FakeTogetherServer
) -> None:
    out = tmp_path / "out"
    cases: dict[str, tuple[bytes | None, str]] = {
        "broken.json": (b'{"scene": "a boat",', "is not valid JSON: Expecting"),
        "list.json": (b"[1, 2]", "must be an object"),
        "binary.json": (b"\xff\xfe\x00garbage", "is not UTF-8"),
        "empty.json": (b"", "is not valid JSON"),
        "huge.json": (b" " * (1024 * 1024 + 10), "too large"),
        "schema.json": (json.dumps({"scene": 7}).encode(), "The prompt has"),
        "missing.json": (None, "no such file"),
        "a-folder": (None, "is not a file"),
        "424242": (None, "no saved prompt with id 424242"),
        "99999999999999": (None, "no saved prompt"),
    }
    (tmp_path / "a-folder").mkdir()
    for name, (content, says) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        done = run_cli(isolated_settings, tmp_path, name, "--model", "flux-schnell",
                       "--out", str(out), **together_env(together))  # fmt: skip
        assert_one_line_failure(done, out, says=says, code=2)
    assert together.requests == []


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--n", "abc"], "invalid int value: 'abc'"),
        (["--n", "9"], "1 to 4 images"),
        (["--n", "0"], "1 to 4 images"),
        (["--n", "1000000000000000000000"], "1 to 4 images"),
        (["--seed", "-1"], "seed must be a whole number"),
        (["--seed", "4294967296"], "seed must be a whole number"),
        (["--seed", "1.5"], "invalid int value"),
        (["--aspect", "1:9"], "too stretched"),
        (["--aspect", "wide"], "not an aspect ratio"),
        (["--preset", "no-such-style"], "no style preset"),
    ],
)
def test_bad_flags(
    isolated_settings: Settings,
    tmp_path: Path,
    prompt_file: Path,
    together: FakeTogetherServer,
    flags: list[str],
    says: str,
) -> None:
    out = tmp_path / "out"
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", "flux-schnell",
                   "--out", str(out), *flags, **together_env(together))  # fmt: skip
    assert_one_line_failure(done, out, says=says, code=2)
    assert together.requests == []


def test_an_unknown_flag_gets_the_usage_and_exit_2(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path
) -> None:
    # Extra arguments are refused by the top-level parser (as for every command): its usage
    # lines, then the reason; no traceback, nothing written.
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", OFFLINE, "--bogus")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].endswith("unrecognized arguments: --bogus")
    assert list(tmp_path.glob("*.png")) == []


def test_missing_model_flag_is_one_line(isolated_settings: Settings, tmp_path: Path) -> None:
    done = run_cli(isolated_settings, tmp_path, "prompt.json")
    assert_one_line_failure(done, tmp_path / "out", says="--model", code=2)


def test_an_unwritable_folder_is_refused_before_the_provider_is_paid(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path, together: FakeTogetherServer
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "images"
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", "flux-schnell",
                   "--out", str(out), **together_env(together))  # fmt: skip
    assert_one_line_failure(done, out, says=f"cannot write images into {out}", code=2)
    assert together.requests == []


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (together_server.error(402, "Insufficient balance"), "credit"),
        (together_server.error(429, headers={"x-ratelimit-reset": "7"}), "7"),
        (together_server.error(503), "not answering properly"),
    ],
)
def test_together_errors_are_one_line(
    isolated_settings: Settings,
    tmp_path: Path,
    prompt_file: Path,
    together: FakeTogetherServer,
    reply: together_server.Reply,
    says: str,
) -> None:
    together.script(reply)
    out = tmp_path / "out"
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", "flux-schnell",
                   "--out", str(out), **together_env(together))  # fmt: skip
    assert_one_line_failure(done, out, says=says, code=1)


def test_a_rejected_key_is_one_line(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path, together: FakeTogetherServer
) -> None:
    out = tmp_path / "out"
    env = together_env(together) | {"TOGETHER_API_KEY": "wrong-key"}
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", "flux-schnell",
                   "--out", str(out), **env)  # fmt: skip
    assert_one_line_failure(done, out, says="TOGETHER_API_KEY", code=1)
    assert "wrong-key" not in done.stderr  # the key itself is never shown


def test_a_provider_that_never_finishes_times_out_in_one_line(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path, fal: FakeFalQueueServer
) -> None:
    fal.finish = False
    out = tmp_path / "out"
    env = fal_env(fal) | {"GENERATION_TIMEOUT_SECONDS": "1", "FAL_POLL_INTERVAL_SECONDS": "0.05"}
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model",
                   "fal-ai/flux/schnell", "--out", str(out), **env)  # fmt: skip
    assert_one_line_failure(done, out, says="did not finish within 1 seconds", code=1)
    assert "PUT" in [r.method for r in fal.requests]  # cancelled at Fal


def test_a_failure_after_the_first_image_keeps_the_first(
    isolated_settings: Settings, tmp_path: Path, prompt_file: Path, together: FakeTogetherServer
) -> None:
    together.script(together_server.ok(), together_server.error(402, "Insufficient balance"))
    out = tmp_path / "out"
    done = run_cli(isolated_settings, tmp_path, str(prompt_file), "--model", "flux-schnell",
                   "--n", "2", "--seed", "1", "--out", str(out),
                   **together_env(together))  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stdout.splitlines()
    assert written(line)[2] == 1 and written(line)[0].is_file()
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
