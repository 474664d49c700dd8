"""Every example in the README is run, and its output compared with what the README shows."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def console_examples(text: str):
    """(command, expected output, expected exit code) for each `$ kinerja ...` line."""
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        command, lines = None, []
        for line in block.splitlines() + ["$ "]:
            if line.startswith("$ "):
                if command is not None:
                    exit_code = 0
                    if lines and re.fullmatch(r"\[exit \d+\]", lines[-1]):
                        exit_code = int(lines.pop()[6:-1])
                    yield command, "\n".join(lines).rstrip("\n"), exit_code
                command, lines = line[2:].strip() or None, []
            else:
                lines.append(line)


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
    import io
    import sys

    def run(args):
        monkeypatch.chdir(ROOT)
        raw = io.BytesIO()
        stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        code = main(args)
        stdout.flush()
        return code, raw.getvalue().decode("utf-8")
    return run
