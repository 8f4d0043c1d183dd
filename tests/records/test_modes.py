"""Response modes: the declared-mode parser reads the mode a chain of thought settles on."""

from __future__ import annotations

import pytest

from deliberate.records.modes import ResponseMode, parse_declared_mode


@pytest.mark.parametrize(("text", "mode"), [
    ("Response mode: safe_complete", ResponseMode.safe_complete),
    ("reasoning...\nmode: refuse\n", ResponseMode.refuse),
    ("**Response mode:** Safe-Complete", ResponseMode.safe_complete),
    ("Mode = comply", ResponseMode.comply),
    ("The response mode is refuse.", ResponseMode.refuse),
    ("Response mode: `safe completion`", ResponseMode.safe_complete),
    ("Response mode \u2014 refuse", ResponseMode.refuse),
    ("First I thought mode: refuse. On reflection, Response mode: comply", ResponseMode.comply),
    ("The mode of transport: trains", None),
    ("No declaration; the safe-complete mode seems right", None),
    ("model: refuse", None),
    ("", None),
    (None, None),
])
def test_parse_declared_mode(text, mode):
    assert parse_declared_mode(text) == mode
