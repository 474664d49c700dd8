"""Diagnostics: located, coded, collected, sorted (after OPA's ast/errors.go)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from engine.i18n import _

#: Where the built-in policies live: beside the package in a checkout, inside it when installed.
_BUNDLED = (Path(__file__).resolve().parent / "policies", Path(__file__).resolve().parent.parent / "policies")


def shown_file(file: str) -> str:
    """A built-in policy by its own name (`policies/pp-46-2011.yaml`), never the directory it is
    installed in (a server's site-packages); any other file as given."""
    path = Path(file)
    if path.is_absolute() and path.suffix in (".yaml", ".yml"):
        try:
            if path.resolve().parent in _BUNDLED:
                return f"policies/{path.name}"
        except OSError:
            return file
    return file


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a source file (1-based line and column)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        file = shown_file(self.file)
        return f"{file}:{self.line}:{self.column}" if self.line else file


@dataclass(frozen=True)
class Diagnostic:
    position: Position
    code: str
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.position.file, self.position.line, self.position.column, self.code, self.message)

    def render(self) -> str:
        text = f"{self.position}: {self.code}: {self.message}"
        if self.severity is Severity.WARNING:
            text = f"{self.position}: {self.code}: " + _("warning: {message}", message=self.message)
        return text + ("\n    " + _("hint: {hint}", hint=self.hint) if self.hint else "")

    def as_json(self) -> dict:
        return {
            "file": shown_file(self.position.file),
            "line": self.position.line,
            "column": self.position.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class Diagnostics:
    """A collector: passes add to it; nothing is raised one at a time."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self, position: Position, code: str, message: str, hint: str = "", severity: Severity = Severity.ERROR
    ) -> None:
        self.items.append(Diagnostic(position, code, message, hint, severity))

    def extend(self, other: Diagnostics | list[Diagnostic]) -> None:
        self.items.extend(other.items if isinstance(other, Diagnostics) else other)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def sorted(self) -> list[Diagnostic]:
        unique = {(d.sort_key(), d.hint, d.severity): d for d in self.items}
        return [unique[k] for k in sorted(unique, key=lambda k: k[0])]

    def __bool__(self) -> bool:
        return bool(self.items)


#: Most diagnostics reported for one policy; the rest are counted in a last one.
MAX_DIAGNOSTICS = 200


def capped(items: list[Diagnostic], limit: int = MAX_DIAGNOSTICS) -> list[Diagnostic]:
    """The first `limit` diagnostics (errors first), and one saying how many more there are: a
    policy with thousands of mistakes gets a readable answer of bounded size."""
    if len(items) <= limit:
        return items
    from engine.i18n import _

    kept = sorted(items, key=lambda d: d.severity is not Severity.ERROR)[:limit]
    kept.sort(key=Diagnostic.sort_key)
    rest = len(items) - limit
    severity = Severity.ERROR if any(d.severity is Severity.ERROR for d in items) else Severity.WARNING
    return kept + [
        Diagnostic(
            kept[-1].position,
            "diagnostics.capped",
            _("and {count} more diagnostics not shown", count=f"{rest:,}"),
            _("correct the ones shown and check again"),
            severity,
        )
    ]


class PolicyError(Exception):
    """A policy that could not be loaded or checked; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))
