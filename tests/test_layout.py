"""The README's "Layout" section names every module of engine/, and only modules that exist.

A maintainer reads the tree from that section, so it must not drift: a module added without a
line there, or a line left behind by a module moved or removed, fails here with what to write.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"

#: Alembic revision files, one per change of the database schema: the README names their folder.
REVISIONS = ENGINE / "service" / "migrations" / "versions"
#: Names in backticks that are paths: files of these kinds, or folders (ending in "/").
_PATH = re.compile(r"[\w.-]+(/[\w.-]+)*(\.(py|lark|json|po|toml)|/)")
_BULLET = re.compile(r"^(\s*)- `([^`]+)`")


def layout_section() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert found, "README.md has no '## Layout' section"
    return found.group(1).splitlines()


def named_paths(lines: list[str]) -> set[Path]:
    """Every path the section names. A bullet's first name is relative to the folder of the
    bullet it is nested in (or to the repository when it starts with engine/ or is not nested);
    the other names in a bullet (and in its continuation lines) are relative to the folder the
    bullet names, or to its file's folder."""
    named: set[Path] = set()
    folders: list[tuple[int, Path]] = []  # (indent, folder) of the open bullets
    here = ROOT  # what a name outside the bullets is relative to
    for line in lines:
        bullet = _BULLET.match(line)
        if bullet:
            indent, first = len(bullet.group(1)), bullet.group(2)
            while folders and folders[-1][0] >= indent:
                folders.pop()
            parent = ROOT if first.startswith("engine/") or not folders else folders[-1][1]
            path = parent / first
            named.add(path)
            here = path if first.endswith("/") else path.parent
            folders.append((indent, here))
        elif not line.startswith(" "):
            here, folders = ROOT, []  # a paragraph outside the list
        for name in re.findall(r"`([^`]+)`", line[bullet.end() :] if bullet else line):
            if _PATH.fullmatch(name) and not name.startswith("/"):
                named.add((ROOT if name.startswith("engine/") else here) / name)
    return {Path(p.as_posix().rstrip("/")) for p in named}


def modules() -> set[Path]:
    """Every module and package of engine/ (a package's __init__.py goes with its folder)."""
    found: set[Path] = set()
    for path in ENGINE.rglob("*.py"):
        if "__pycache__" in path.parts or path.parent == REVISIONS:
            continue
        found.add(path.parent)
        if path.name != "__init__.py":
            found.add(path)
    found |= set(ENGINE.rglob("*.lark"))
    return found


def test_every_module_is_in_the_readme_layout():
    missing = sorted(str(p.relative_to(ROOT)) for p in modules() - named_paths(layout_section()))
    assert not missing, (
        "README.md's Layout does not name these; add a line '- `name`: its job' under its "
        "package:\n" + "\n".join(missing)
    )


def test_the_readme_layout_names_only_what_exists():
    stale = sorted(str(p.relative_to(ROOT)) for p in named_paths(layout_section()) if not p.exists())
    assert not stale, "README.md's Layout names what does not exist (moved or removed?):\n" + "\n".join(stale)


def test_the_layout_check_sees_the_nesting():
    lines = [
        "- `engine/policy/`: the policy stage.",
        "  - `checks.py`: passes, see `names.py`.",
        "- `engine/api.py`: the facade.",
        "",
        "Beside it: `server.py`.",
    ]
    assert named_paths(lines) == {
        ROOT / "engine/policy",
        ROOT / "engine/policy/checks.py",
        ROOT / "engine/policy/names.py",
        ROOT / "engine/api.py",
        ROOT / "server.py",
    }


def test_every_package_is_installed():
    """A non-editable install (the quick start) ships only the packages pyproject.toml lists: a new
    subpackage missing there would import in a checkout and fail for everyone who installs it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "engine").rglob("__init__.py")}
    assert not found - listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
