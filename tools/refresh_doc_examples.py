"""Rewrite the outputs of a Markdown document's console examples from real runs.

Each ```console block's `$ kinerja ...` lines are run in-process from the repository root, as
tests/doc_examples.py runs them, and the lines under each command are replaced by what it printed
(and `[exit N]` when it did not exit 0). Run it after a change that alters what an example prints,
then read the diff: the tests compare the document with the same runs.

    python tools/refresh_doc_examples.py README.md docs/panduan-kebijakan.md
"""

from __future__ import annotations

import io
import os
import re
import shlex
import sys
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(command: str) -> str:
    from engine.cli import main

    args = shlex.split(command)
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    saved = sys.stdout
    sys.stdout = stdout
    try:
        with redirect_stderr(io.StringIO()):
            code = main(args[1:])
    finally:
        sys.stdout = saved
    stdout.flush()
    out = raw.getvalue().decode("utf-8").rstrip("\n")
    return out + (f"\n[exit {code}]" if code else "")


def _refresh_block(block: str) -> str:
    lines, out = block.split("\n"), []
    for line in lines:
        if line.startswith("$ "):
            out.append(line)
            shown = _run(line[2:].strip())
            if shown:
                out.append(shown)
    return "\n".join(out) + "\n"


def refresh(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    new = re.sub(
        r"(```console\n)(.*?)(```)",
        lambda m: m.group(1) + _refresh_block(m.group(2).rstrip("\n")) + m.group(3),
        text,
        flags=re.S,
    )
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    for name in sys.argv[1:]:
        refresh(Path(name))
