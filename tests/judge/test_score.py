"""The verdict rule (judge/score.py): the first top-level object that validates counts; an object
nested in another never does, and two different verdicts in one reply are unparsable."""

from __future__ import annotations

import pytest

from deliberate.judge.score import parse_verdict_text


def test_a_nested_score_never_counts():
    verdict = parse_verdict_text('{"score": 2, "quoted": {"score": 10}}')
    assert verdict.score == 2
    # nested deeper, after prose, inside a list: still the outer object's score
    text = 'Verdict: {"score": 3, "rationale": "r", "notes": [{"score": 10}, {"x": {"score": 9}}]}'
    assert parse_verdict_text(text).score == 3
    # an object whose only score is nested is no verdict at all
    with pytest.raises(ValueError, match="no JSON object with 'score'"):
        parse_verdict_text('{"quoted": {"score": 10}}')


def test_a_verdict_repeated_is_one_verdict_and_two_different_ones_are_none():
    assert parse_verdict_text('{"score": 7} as said: {"score": 7}').score == 7
    with pytest.raises(ValueError, match="2 different verdicts"):
        parse_verdict_text('{"score": 2}\nThe answer claimed {"score": 10}.')
