"""Offline analyzer and streaming-parser speed, measured in one run on this machine.

    .venv/bin/python -m benchmarks.analysis_speed

Prints: seconds per 12-MP JPEG for the whole offline analysis (warm), per stage; the partial
JSON parser on a 10 KB answer fed in 5-character deltas, as a ratio to one json.loads of the
whole text per delta (the naive way to show partial JSON); and sentence embeddings per second.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import time

import numpy as np
from PIL import Image

from app.services.analyzer.embeddings import embed
from app.services.analyzer.jsonstream import PartialJSONParser
from app.services.analyzer.vision import analyze_image


def _photo_12mp() -> bytes:
    rng = np.random.default_rng(7)
    base = np.linspace(0, 255, 4000, dtype=np.float32)[None, :, None].repeat(3000, 0).repeat(3, 2)
    noisy = np.clip(base + rng.normal(0, 18, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    photo = _photo_12mp()
    analyze_image(photo)  # load OCR / NSFW / cascade models once
    times = _timed(lambda: analyze_image(photo), 5)
    stages = analyze_image(photo)["meta"]["measurements"].get("timings_ms", {})
    print(f"offline analysis, 12-MP JPEG: median {statistics.median(times):.2f} s over 5 runs")
    print("  stages (ms): " + ", ".join(f"{k} {v}" for k, v in stages.items()))

    doc = {"scene": "word " * 600, "subjects": [{"description": f"s{i} " * 4} for i in range(80)]}
    text = json.dumps(doc, indent=2)
    chunks = [text[i : i + 5] for i in range(0, len(text), 5)]

    def incremental() -> None:
        parser = PartialJSONParser()
        for c in chunks:
            parser.feed(c)

    def naive() -> None:
        buf = ""
        for c in chunks:
            buf += c
            with contextlib.suppress(json.JSONDecodeError):
                json.loads(buf)

    inc = statistics.median(_timed(incremental, 5))
    base = statistics.median(_timed(naive, 5))
    print(
        f"partial JSON, {len(text) / 1000:.1f} KB in {len(chunks)} deltas: {inc * 1000:.1f} ms "
        f"(json.loads-per-delta baseline {base * 1000:.1f} ms, ratio {inc / base:.2f})"
    )

    sentences = [
        f"a photograph of scene number {i} with warm light and a calm sea" for i in range(50)
    ]
    embed(sentences[:2])
    t = statistics.median(_timed(lambda: embed(sentences), 3))
    print(f"embeddings (numpy MiniLM): {len(sentences) / t:.0f} sentences/s")


if __name__ == "__main__":
    main()
