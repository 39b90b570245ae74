"""PartialJSONParser: snapshots of an object while it streams in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.services.analyzer.jsonstream import PartialJSONParser
from tests.utils.fakes.openai_server import VALID_PROMPT

# Awkward on purpose: escapes, a surrogate pair, unicode, nesting, empty containers,
# every literal, numbers of every shape, and keys that look like values.
DOCUMENTS: list[Any] = [
    VALID_PROMPT,
    {
        "text": 'say "hi"\\ then\nnew line\ttab \u00e9 \U0001f600 </think>',
        "nums": [0, -1, 12.5, -0.25e-3, 1e10, 3],
        "flags": [True, False, None],
        "empty": {},
        "none": [],
        "deep": {"a": [{"b": [[], {"c": "d"}]}], "e": 1},
        "true": "null",
        "": "empty key",
    },
    {},
    {"only": 1},
]


def _renderings(doc: Any) -> list[str]:
    return [
        json.dumps(doc),
        json.dumps(doc, indent=2),
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
    ]


@pytest.mark.parametrize("doc", DOCUMENTS)
@pytest.mark.parametrize("size", range(1, 8))
def test_any_chunking_ends_with_the_document_and_never_contradicts_it(
    doc: dict[str, Any], size: int
) -> None:
    for text in _renderings(doc):
        parser = PartialJSONParser()
        snapshots = [parser.feed(text[i : i + size]) for i in range(0, len(text), size)]

        assert snapshots[-1] == doc
        assert parser.done and parser.error is None
        assert parser.completed_keys == tuple(doc)
        for snapshot in snapshots:
            assert isinstance(snapshot, dict)
            # Keys appear in order, and a key reported complete already has its final value.
            assert list(snapshot) == list(doc)[: len(snapshot)]
        seen_complete: set[str] = set()
        replay = PartialJSONParser()
        for i in range(0, len(text), size):
            snapshot = replay.feed(text[i : i + size])
            assert snapshot is not None
            for key in replay.completed_keys:
                assert snapshot[key] == doc[key]
            assert seen_complete <= set(replay.completed_keys)
            seen_complete = set(replay.completed_keys)


def test_snapshots_show_strings_as_they_arrive_and_hide_unfinished_tokens() -> None:
    parser = PartialJSONParser()
    steps = [
        ('{"scene": "A calm se', {"scene": "A calm se"}),
        ('a", "sub', {"scene": "A calm sea"}),  # a key without a value is hidden
        (
            'jects": [{"description": "bo',
            {"scene": "A calm sea", "subjects": [{"description": "bo"}]},
        ),
        ('at"}], "n": 12', {"scene": "A calm sea", "subjects": [{"description": "boat"}]}),
        ("5, ", {"scene": "A calm sea", "subjects": [{"description": "boat"}], "n": 125}),
        ('"ok": tr', {"scene": "A calm sea", "subjects": [{"description": "boat"}], "n": 125}),
        (
            "ue}",
            {"scene": "A calm sea", "subjects": [{"description": "boat"}], "n": 125, "ok": True},
        ),
    ]
    for delta, expected in steps:
        assert parser.feed(delta) == expected
    assert parser.completed_keys == ("scene", "subjects", "n", "ok")


def test_a_half_written_escape_is_held_back() -> None:
    parser = PartialJSONParser()
    assert parser.feed('{"a": "caf\\') == {"a": "caf"}
    assert parser.feed("u00") == {"a": "caf"}
    assert parser.feed("e9 ") == {"a": "café "}
    # A high surrogate waits for its low half rather than showing a broken character.
    assert parser.feed("\\ud83d") == {"a": "café "}
    assert parser.feed("\\ude00") == {"a": "café \U0001f600"}


def test_prose_and_fences_around_the_object_are_ignored() -> None:
    parser = PartialJSONParser()
    assert parser.feed("Sure! Here is the prompt:\n```js") is None
    assert parser.feed('on\n{"a": 1') == {}
    assert parser.feed('}\n```\nAnything else {"b": 2}?') == {"a": 1}
    assert parser.done
    assert parser.text.startswith("Sure!")


def test_trailing_commas_and_python_literals_are_tolerated() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1, 2,], "b": True, "c": None, "d": {"e": False,},}')
    assert parser.value == {"a": [1, 2], "b": True, "c": None, "d": {"e": False}}
    assert parser.done


def test_text_that_is_not_json_freezes_the_last_good_snapshot() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": "x", "b": ')
    assert parser.feed("'single quotes', \"c\": 1}") == {"a": "x"}
    assert parser.error is not None
    assert parser.feed(" more") == {"a": "x"}  # stays put; jsonrepair takes over at the end


def test_ten_kilobytes_in_five_character_deltas_parse_exactly() -> None:
    # Speed is measured by benchmarks/analysis_speed.py, not asserted here.
    doc = {
        "scene": "word " * 600,
        "subjects": [{"description": f"subject {i} " * 4, "position": "left"} for i in range(80)],
    }
    text = json.dumps(doc, indent=2)
    assert len(text) > 10_000
    parser = PartialJSONParser()
    for i in range(0, len(text), 5):
        parser.feed(text[i : i + 5])
    assert parser.value == doc
