"""`kinerja check`: one located diagnostic per mistake, exit 1; silent and 0 on good policies."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from engine.cli import main

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

DATA = Path(__file__).parent / "data" / "one-mistake"


def run(args, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    return main(args), out.getvalue()


@pytest.mark.parametrize(
    "name,line,column,code,words",
    [
        ("unknown-name", 7, 35, "name.unknown", "unknown name 'targett'"),
        ("cycle", 6, 3, "cycle", "nilai_kinerja -> nilai_skp -> nilai_kinerja"),
        ("gap", 10, 7, "table.gap", "matches nilai in [75, 76)"),
        (
            "weights",
            17,
            9,
            "weights.sum",
            "for 'guru' add up to 90 (kualitas_mengajar 70, kualitas_pelayanan 20), not 100",
        ),
    ],
)
def test_one_located_diagnostic_per_mistake(name, line, column, code, words, monkeypatch):
    path = DATA / f"{name}.yaml"
    status, out = run(["check", str(path)], monkeypatch)
    assert status == 1
    first, *rest = out.splitlines()
    assert first.startswith(f"{path}:{line}:{column}: {code}: ")
    assert words in first
    assert [r for r in rest if not r.startswith("    hint: ")] == []  # nothing but its hint


def test_check_is_silent_on_the_shipped_policies(monkeypatch):
    assert run(["check"], monkeypatch) == (0, "")
