"""Reading and running the examples of a Markdown document (README.md, docs/panduan-kebijakan.md).

A ```console block holds `$ kinerja ...` lines, each followed by the exact standard output of
that command and, when its exit code is not 0, a last line `[exit N]`. The commands are run
in-process through `engine.cli.main`, from the repository root, as a reader would type them.
"""

from __future__ import annotations

import io
import re
import shlex
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent


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


def run_in_root(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run `kinerja ARGS` in-process from the repository root: (exit code, standard output)."""
    monkeypatch.chdir(ROOT)
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    code = main(args)
    stdout.flush()
    return code, raw.getvalue().decode("utf-8")


def check_example(command: str, expected: str, exit_code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run one console example and compare its output and exit code with the document's."""
    args = shlex.split(command)
    assert args[0] == "kinerja"
    code, out = run_in_root(args[1:], monkeypatch)
    assert out.rstrip("\n") == expected
    assert code == exit_code
