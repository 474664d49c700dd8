"""The static types of formula values: a leaf that the type checker and the function registry share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.i18n import N_, _


@dataclass(frozen=True)
class Type:
    kind: str  # number | text | boolean | list | record | number_or_range | any
    values: tuple[Any, ...] | None = None  # text: the known values (an enum), when known
    element: Type | None = None  # list: the element type
    fields: tuple[tuple[str, Type], ...] = ()  # record: ((name, Type), ...)
    scope: str | None = None  # record that is an item of this list input (has item values)

    def __str__(self) -> str:
        if self.kind == "list":
            return _("list of {element}", element=self.element)
        return _(_KIND_WORDS[self.kind]) if self.kind in _KIND_WORDS else self.kind

    def field(self, name: str) -> Type | None:
        for field_name, field_type in self.fields:
            if field_name == name:
                found: Type = field_type
                return found
        return None


_KIND_WORDS = {
    "number": N_("number"),
    "text": N_("text"),
    "boolean": N_("boolean"),
    "record": N_("record"),
    "number_or_range": N_("number_or_range"),
    "any": N_("any"),
}

NUMBER, TEXT, BOOLEAN, ANY, TARGET = Type("number"), Type("text"), Type("boolean"), Type("any"), Type("number_or_range")
