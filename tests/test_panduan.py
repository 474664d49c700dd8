"""docs/panduan-kebijakan.md, the authoring guide: every command is run and its output compared,
and every YAML or JSON snippet is found, word for word, in the docs/panduan/ file the text names.
"""

from __future__ import annotations

import re
import shlex
import textwrap

import pytest
from doc_examples import ROOT, check_example, console_examples

GUIDE = ROOT / "docs" / "panduan-kebijakan.md"
FILES = ROOT / "docs" / "panduan"
TEXT = GUIDE.read_text(encoding="utf-8")

EXAMPLES = list(console_examples(TEXT))

#: A snippet names its file in the paragraph just before it ("dari `docs/panduan/x.yaml`"); a
#: snippet that directly follows another one is from the same file.
SOURCE = re.compile(r"dari\s+`(docs/panduan/[\w.-]+)`", flags=re.I)
SNIPPET = re.compile(r"```(yaml|json)\n(.*?)```", flags=re.S)


def snippets():
    """(source file named by the text, snippet text, line in the guide) for each snippet."""
    previous_end, source = None, None
    for match in SNIPPET.finditer(TEXT):
        if previous_end is None or TEXT[previous_end : match.start()].strip():
            paragraph = TEXT[: match.start()].rstrip().rsplit("\n\n", 1)[-1]
            named = SOURCE.findall(paragraph)
            source = named[-1] if named else None
        previous_end = match.end()
        yield source, match.group(2), TEXT.count("\n", 0, match.start()) + 1


SNIPPETS = list(snippets())


def _lines(text: str) -> list[str]:
    """Lines without trailing spaces, leading and trailing blank lines and common indentation."""
    lines = [line.rstrip() for line in textwrap.dedent(text).splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def occurs_in(snippet: str, text: str) -> bool:
    """Whether the snippet's lines are consecutive lines of the text, all indented alike."""
    wanted = _lines(snippet)
    have = [line.rstrip() for line in text.splitlines()]
    if not wanted:
        return False
    for start in range(len(have) - len(wanted) + 1):
        first = have[start]
        if not first.endswith(wanted[0]) or first[: len(first) - len(wanted[0])].strip():
            continue
        indent = first[: len(first) - len(wanted[0])]
        if all(have[start + i] == (indent + line if line else "") for i, line in enumerate(wanted)):
            return True
    return False


def test_guide_has_examples_and_snippets():
    assert len(EXAMPLES) >= 12
    assert len(SNIPPETS) >= 15


@pytest.mark.parametrize("command,expected,exit_code", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_guide_example(command, expected, exit_code, monkeypatch):
    check_example(command, expected, exit_code, monkeypatch)


@pytest.mark.parametrize("source,snippet,line", SNIPPETS, ids=[f"line {s[2]}" for s in SNIPPETS])
def test_snippet_is_from_the_named_file(source, snippet, line):
    assert source is not None, f"the snippet at line {line} does not say which docs/panduan/ file it is from"
    path = ROOT / source
    assert path.is_file(), f"the snippet at line {line} names {source}, which does not exist"
    assert occurs_in(snippet, path.read_text(encoding="utf-8")), f"the snippet at line {line} is not (part of) {source}"


def test_commands_name_their_own_files():
    """Other policies come and go in policies/: the guide never lists or checks all of them."""
    for command, _, _ in EXAMPLES:
        args = shlex.split(command)
        assert args[1] != "policies", command
        if args[1] in ("check", "test"):
            targets = [a for a in args[2:] if not a.startswith("-")]
            assert targets and all(t.startswith("docs/panduan/") for t in targets), command


def test_every_example_file_is_used():
    """Each file in docs/panduan/ is shown or run by the guide; a mistake file is checked."""
    for path in sorted(FILES.iterdir()):
        name = f"docs/panduan/{path.name}"
        assert name in TEXT, f"{name} is not mentioned in the guide"
        if path.name.startswith("salah-"):
            assert any(c.split()[1:3] == ["check", name] and code == 1 for c, _, code in EXAMPLES), (
                f"{name} is never shown failing `kinerja check`"
            )


def test_occurs_in_ignores_only_indentation():
    text = "a:\n  b: 1\n  c: 2\n\n  d: 3\n"
    assert occurs_in("\n  b: 1\n  c: 2\n", text)
    assert occurs_in("b: 1\nc: 2", text)
    assert occurs_in("c: 2\n\nd: 3", text)
    assert not occurs_in("b: 1\nd: 3", text)
    assert not occurs_in("b: 1\n    c: 2", text)
    assert not occurs_in("x: b: 1", text)


MISTAKE_FILES = sorted(FILES.glob("salah-*.yaml"))


def _said(out: str) -> list[tuple[str, str]]:
    """(place and code, message) of each diagnostic line; hints as ("hint", label)."""
    said = []
    for line in out.splitlines():
        if line.startswith("    "):
            said.append(("hint", line.strip().split(": ", 1)[0]))
        else:
            file, row, column, code, message = line.split(":", 4)
            said.append((f"{file}:{row}:{column}:{code}", message.strip()))
    return said


@pytest.mark.parametrize("path", MISTAKE_FILES, ids=[p.name for p in MISTAKE_FILES])
def test_mistakes_are_told_in_indonesian_by_default_and_in_english_on_request(path, monkeypatch):
    """The same diagnostics, at the same places with the same codes; only the words change."""
    from doc_examples import run_in_root

    monkeypatch.delenv("KINERJA_LANG", raising=False)
    name = f"docs/panduan/{path.name}"
    code, default = run_in_root(["check", name], monkeypatch)
    code_en, english = run_in_root(["check", name, "--lang", "en"], monkeypatch)
    assert code == code_en == 1 and default and english
    said, said_en = _said(default), _said(english)
    assert [where for where, _ in said] == [where for where, _ in said_en]
    for (where, message), (_, message_en) in zip(said, said_en):
        if where == "hint":
            assert (message, message_en) == ("petunjuk", "hint")
        else:
            assert message != message_en
