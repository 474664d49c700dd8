"""Every example in the README is run, and its output compared with what the README shows."""

from __future__ import annotations

import re
import shlex

import pytest
from doc_examples import ROOT, console_examples
from doc_examples import run_in_root as _run_in_root

README = ROOT / "README.md"


EXAMPLES = list(console_examples(README.read_text(encoding="utf-8")))


def test_readme_has_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("command,expected,exit_code", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_readme_example(command, expected, exit_code, run_in_root):
    args = shlex.split(command)
    assert args[0] == "kinerja"
    code, out = run_in_root(args[1:])
    assert out.rstrip("\n") == expected
    assert code == exit_code


def test_quick_start_command_runs(run_in_root):
    """The quick start's main job: evaluating the example records with a bundled policy."""
    text = README.read_text(encoding="utf-8")
    quick = re.search(r"## Quick start(.*?)## ", text, flags=re.S).group(1)
    commands = re.findall(r"```sh\n(.*?)\n```", quick, flags=re.S)
    assert len(commands) == 2
    job = commands[0].split("&&")[-1].strip().split()
    assert job[0].endswith("kinerja")
    code, out = run_in_root(job[1:])
    assert code == 0
    assert out.count("\n") == 3 and '"predikat":"Baik"' in out


@pytest.fixture
def run_in_root(monkeypatch):
    def run(args):
        return _run_in_root(args, monkeypatch)

    return run
