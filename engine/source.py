"""Policy YAML -> plain data with a source map, safely.

PyYAML's composer is used for its node positions, never its constructors: we turn nodes into
dicts, lists, text, exact numbers, booleans and null ourselves, so no tag can build an object.
Aliases are refused (no alias bombs), nesting and size are bounded, duplicate keys are errors,
and YAML 1.1 surprises (`no` as false, `1:30` as 90) stay text.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .diagnostics import Diagnostics, Position
from .numbers import NumberError, parse_number

#: Largest policy file accepted (a real policy is a few tens of kilobytes).
MAX_POLICY_BYTES = 1_000_000
#: Deepest nesting of mappings and lists in a policy file.
MAX_YAML_DEPTH = 32

Path = tuple  # of str keys and int indices

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
}
_TRUE, _FALSE = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Origin:
    """Where a scalar's text starts, to place a column inside a formula back into the file."""

    position: Position
    style: str | None  # None (plain), "'", '"', "|" or ">"
    places: tuple | None = None  # for text over several lines: (line, column) of each character

    def locate(self, line: int, column: int) -> Position:
        """File position of (line, column) within the scalar's text."""
        p = self.position
        if self.places:
            index = min(self._offset(line, column), len(self.places) - 1)
            return Position(p.file, *self.places[index][:2])
        shift = 1 if self.style in ("'", '"') else 0
        return Position(p.file, p.line, p.column + shift + column - 1)

    def _offset(self, line: int, column: int) -> int:
        # the text's own lines are those of the parsed value, which `places` follows one to one
        return self._line_starts[line - 1] + column - 1 if line <= len(self._line_starts) else len(self.places)

    @property
    def _line_starts(self) -> list[int]:
        starts, index = [0], 0
        for index, (_, _, char) in enumerate(self.places):
            if char == "\n":
                starts.append(index + 1)
        return starts


class SourceMap:
    """JSON-path tuples -> where each node of the data came from."""

    def __init__(self) -> None:
        self.origins: dict[Path, Origin] = {}

    def origin(self, path: Path) -> Origin | None:
        """The origin of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            found = self.origins.get(path)
            if found is not None or not path:
                return found
            path = path[:-1]

    def position(self, path: Path, fallback: str = "") -> Position:
        found = self.origin(path)
        return found.position if found else Position(fallback)


class _Loader(yaml.SafeLoader):
    """A composer that refuses aliases and bounds depth; nothing here constructs objects."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not allowed in a policy; write the value out", event.start_mark)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise yaml.MarkedYAMLError(
                None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load(text: str | bytes, file: str, diagnostics: Diagnostics) -> tuple[object, SourceMap]:
    """Parse YAML text into plain data; problems go to `diagnostics` and data is None."""
    sources = SourceMap()
    if len(text) > MAX_POLICY_BYTES:
        diagnostics.add(Position(file, 1, 1), "yaml.too_large",
                        f"policy file is {len(text):,} bytes; the limit is {MAX_POLICY_BYTES:,}",
                        "a policy is a few kilobytes of YAML; check that this is the right file")
        return None, sources
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            before = text[:error.start]
            line, column = before.count(b"\n") + 1, len(before) - (before.rfind(b"\n") + 1) + 1
            diagnostics.add(Position(file, line, column), "yaml.encoding", f"the file is not UTF-8 text ({error.reason})",
                            "save the file as UTF-8")
            return None, sources
    loader = None
    try:
        loader = _Loader(text)  # the reader refuses characters YAML does not allow, here already
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "invalid YAML"
        code = "yaml.alias" if "alias" in message else "yaml.too_deep" if "nested" in message else "yaml.syntax"
        diagnostics.add(Position(file, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1), code,
                        message, "check indentation, colons and quotes near this place" if code == "yaml.syntax" else "")
        return None, sources
    except yaml.reader.ReaderError as error:
        line, column = _line_column(text, error.position)
        code = error.character if isinstance(error.character, int) else ord(error.character)
        diagnostics.add(Position(file, line, column), "yaml.character",
                        f"character U+{code:04X} is not allowed in YAML ({error.reason})",
                        "remove it; policies are plain UTF-8 text")
        return None, sources
    except yaml.YAMLError as error:
        diagnostics.add(Position(file, 1, 1), "yaml.syntax", str(error))
        return None, sources
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        diagnostics.add(Position(file, 1, 1), "yaml.empty", "the policy file is empty")
        return None, sources
    data = _convert(node, (), file, _Text(text), sources, diagnostics)
    return data, sources


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


class _Text:
    """The source text with its line starts, to turn a character index into a line and column."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def place(self, index: int) -> tuple[int, int]:
        import bisect
        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def _places(node: ScalarNode, source: _Text) -> tuple:
    """(line, column, character) in the file for each character of a scalar written over several
    lines. Folding turns line breaks and indentation into spaces; the other characters appear
    in the file in the same order, so each is found by scanning forward."""
    text, j = source.text, node.start_mark.index
    end = node.end_mark.index
    if node.style in ("|", ">"):
        j = text.index("\n", j) + 1  # content starts after the header line
    elif node.style in ("'", '"'):
        j += 1
    places = []
    for char in node.value:
        if char in " \t\n":
            places.append((*source.place(min(j, end)), char))
            if j < end and text[j] in " \t\n":
                newline = text[j] == "\n"
                j += 1
                while newline and j < end and text[j] in " \t" and char != "\n":
                    j += 1
            continue
        while j < end and text[j] != char:
            j += 1
        places.append((*source.place(min(j, end)), char))
        j += 1
    return tuple(places)


def _convert(node, path: Path, file: str, source: "_Text", sources: SourceMap, diagnostics: Diagnostics):
    position = Position(file, node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _STANDARD_TAGS:
        diagnostics.add(position, "yaml.tag", f"YAML tag {node.tag} is not allowed in a policy",
                        "remove the tag; policies hold plain values only")
        return None
    if isinstance(node, MappingNode):
        sources.origins[path] = Origin(position, None)
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                diagnostics.add(Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                                "yaml.key", "a key must be a plain name")
                continue
            key = key_node.value
            key_position = Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                diagnostics.add(key_position, "yaml.duplicate_key", f"'{key}' appears twice in this mapping",
                                "keep one; YAML would silently take the last")
                continue
            result[key] = _convert(value_node, path + (key,), file, source, sources, diagnostics)
            if path + (key,) not in sources.origins:
                sources.origins[path + (key,)] = Origin(key_position, None)
            sources.origins[path + (key, "")] = Origin(key_position, None)  # the key itself
        return result
    if isinstance(node, SequenceNode):
        sources.origins[path] = Origin(position, None)
        return [_convert(item, path + (i,), file, source, sources, diagnostics) for i, item in enumerate(node.value)]
    style = node.style if node.style in ("'", '"', "|", ">") else None
    spans_lines = style in ("|", ">") or node.start_mark.line != node.end_mark.line
    sources.origins[path] = Origin(position, style, _places(node, source) if spans_lines and node.value else None)
    return _scalar(node, position, diagnostics)


def _scalar(node: ScalarNode, position: Position, diagnostics: Diagnostics):
    tag, value = node.tag.rsplit(":", 1)[-1], node.value
    if node.style is not None and node.style != "":
        return value  # quoted or block: always text
    if tag == "null":
        return None
    if tag == "bool":
        return True if value in _TRUE else False if value in _FALSE else value
    if tag in ("int", "float"):
        if value.lower().lstrip("+-") in (".inf", ".nan"):
            diagnostics.add(position, "yaml.number", f"{value} is not a finite number", "write a plain number")
            return None
        try:
            return parse_number(value.lstrip("+"))
        except NumberError as error:
            if "out of range" in str(error) or "significant" in str(error):
                diagnostics.add(position, "yaml.number", str(error))
                return None
            return value  # 0x1F, 1_000, 1:30 and the like stay text
    return value
