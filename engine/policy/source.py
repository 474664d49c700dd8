"""Policy YAML -> plain data with a source map, safely.

PyYAML's composer is used for its node positions, never its constructors: we turn nodes into
dicts, lists, text, exact numbers, booleans and null ourselves, so no tag can build an object.
Aliases are refused (no alias bombs), nesting and size are bounded, duplicate keys are errors,
and YAML 1.1 surprises (`no` as false, `1:30` as 90) stay text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import yaml
from yaml.composer import Composer
from yaml.error import Mark
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader
from yaml.resolver import Resolver

try:  # libyaml's parser, when PyYAML was built with it: the same events, ten times faster
    # yaml.cyaml imports CParser from yaml._yaml; its stub does not re-export it
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a PyYAML without libyaml
    CParser = None  # type: ignore[assignment,misc]  # an optional base class: mypy has no spelling for it

from engine.diagnostics import Diagnostics, Position
from engine.i18n import _
from engine.lru import LRU
from engine.numbers import NotANumber, NumberError, parse_number

#: Largest policy file accepted (a real policy is a few tens of kilobytes).
MAX_POLICY_BYTES = 1_000_000
#: Deepest nesting of mappings and lists in a policy file.
MAX_YAML_DEPTH = 32

Path = tuple[str | int, ...]  # of str keys and int indices

_STANDARD_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
_TRUE, _FALSE = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Origin:
    """Where a scalar's text starts, to place a column inside a formula back into the file."""

    position: Position
    style: str | None  # None (plain), "'", '"', "|" or ">"
    # for text over several lines: (line, column, character) of each character
    places: tuple[tuple[int, int, str], ...] | None = None

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
        places = cast("tuple[tuple[int, int, str], ...]", self.places)  # only read when there are places
        return self._line_starts[line - 1] + column - 1 if line <= len(self._line_starts) else len(places)

    @property
    def _line_starts(self) -> list[int]:
        starts, index = [0], 0
        for index, (_line, _column, char) in enumerate(cast("tuple[tuple[int, int, str], ...]", self.places)):
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


class _Refused(yaml.MarkedYAMLError):
    """A construct the loader refuses on purpose (an alias, too deep a nesting), with its code."""

    def __init__(self, code: str, problem: str, mark: Any) -> None:  # PyYAML's Mark or libyaml's
        super().__init__(None, None, problem, mark)
        self.code = code


if TYPE_CHECKING:  # what _Guards is mixed into: a parser's events (PyYAML's or libyaml's) and a composer
    from fractions import Fraction

    class _Composing(Composer):
        def check_event(self, *choices: Any) -> bool: ...
        def peek_event(self) -> Event | None: ...
else:
    _Composing = object


class _Guards(_Composing):
    """A composer that refuses aliases and bounds depth; nothing here constructs objects."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = cast(Event, self.peek_event())  # the alias just checked
            raise _Refused(
                "yaml.alias", _("aliases (*name) are not allowed in a policy; write the value out"), event.start_mark
            )
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise _Refused(
                "yaml.too_deep",
                _("nested more than {limit} levels deep", limit=MAX_YAML_DEPTH),
                cast(Event, self.peek_event()).start_mark,
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(_Guards, yaml.SafeLoader):
    """PyYAML's own reader, scanner and parser: the reference, and the one whose errors are shown."""


if CParser is not None:

    class _FastLoader(_Guards, Composer, CParser, Resolver):
        """libyaml's events, composed by the same Python composer with the same guards."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)
else:  # pragma: no cover
    _FastLoader = None  # type: ignore[assignment,misc]  # see CParser


#: Where libyaml and PyYAML part ways (found by comparing them on mutated policies): a tab, a
#: `?`, a YAML 1.1 line break or a byte-order mark, and an empty value inside {} or [].
_LIBYAML_DIFFERS = re.compile(r"[\t?\x85\u2028\u2029\ufeff]")


def _compose_fast(text: str) -> Node | None:
    """The node tree by libyaml, or None to let PyYAML's reader and parser read (and explain) it.

    On the texts it accepts here, libyaml builds the same nodes at the same places as PyYAML
    (tests/test_fast_paths.py compares them), but it words its errors differently and accepts a
    few things PyYAML refuses. The diagnostics are PyYAML's: any text libyaml does not compose
    cleanly, or that holds a construct where the two differ, goes the reference way."""
    if (
        _FastLoader is None
        or not text.endswith("\n")
        or _LIBYAML_DIFFERS.search(text)
        or Reader.NON_PRINTABLE.search(text)
    ):
        return None
    loader = None
    try:
        loader = _FastLoader(text)
        node = loader.get_single_node()
    except Exception:  # a YAML error, a refused construct, an encoding libyaml rejects
        return None
    finally:
        if loader is not None:
            loader.dispose()
    return None if node is None or _empty_in_flow(node, False) else node


def _empty_in_flow(node: Node, in_flow: bool) -> bool:
    """Whether an empty plain value sits in a flow collection (`{a: }`): libyaml places it elsewhere."""
    stack = [(node, in_flow)]
    while stack:
        node, in_flow = stack.pop()
        if isinstance(node, ScalarNode):
            if in_flow and not node.value and not node.style:
                return True
        elif isinstance(node, MappingNode):
            flow = in_flow or bool(node.flow_style)
            stack.extend((child, flow) for pair in node.value for child in pair)
        else:
            flow = in_flow or bool(cast(SequenceNode, node).flow_style)  # neither scalar nor mapping
            stack.extend((child, flow) for child in node.value)
    return False


#: Clean parses kept, by file name and text. `kinerja check` reads a file, then reads it again
#: for its version header (dates, hash); the second read costs nothing. Only parses that added no
#: diagnostic are kept (a message is worded in the language of the call that made it).
MAX_RECENT_PARSES = 4
_recent: LRU[tuple[object, SourceMap]] = LRU(MAX_RECENT_PARSES)


def load(text: str | bytes, file: str, diagnostics: Diagnostics) -> tuple[object, SourceMap]:
    """Parse YAML text into plain data; problems go to `diagnostics` and data is None.

    The data and source map may be shared with an earlier call on the same text: callers read
    them and build new objects, never change them."""
    key = (file, text)
    recent = _recent.get(key)
    if recent is not None:
        return recent
    found = len(diagnostics.items)
    data, sources = _parse(text, file, diagnostics)
    if data is not None and len(diagnostics.items) == found:
        _recent.put(key, (data, sources))
    return data, sources


def _parse(text: str | bytes, file: str, diagnostics: Diagnostics) -> tuple[object, SourceMap]:
    sources = SourceMap()
    if len(text) > MAX_POLICY_BYTES:
        diagnostics.add(
            Position(file, 1, 1),
            "yaml.too_large",
            _(
                "policy file is {size} bytes; the limit is {limit}",
                size=f"{len(text):,}",
                limit=f"{MAX_POLICY_BYTES:,}",
            ),
            _("a policy is a few kilobytes of YAML; check that this is the right file"),
        )
        return None, sources
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            before = cast(bytes, text)[: error.start]  # still the bytes that did not decode
            line, column = before.count(b"\n") + 1, len(before) - (before.rfind(b"\n") + 1) + 1
            diagnostics.add(
                Position(file, line, column),
                "yaml.encoding",
                _("the file is not UTF-8 text ({reason})", reason=error.reason),
                _("save the file as UTF-8"),
            )
            return None, sources
    node = _compose_fast(text)
    loader = None
    try:
        if node is None:
            loader = _Loader(text)  # the reader refuses characters YAML does not allow, here already
            node = loader.get_single_node()
    except _Refused as error:
        mark = cast(Mark, error.problem_mark)  # _Refused always has its mark and problem
        diagnostics.add(Position(file, mark.line + 1, mark.column + 1), error.code, cast(str, error.problem))
        return None, sources
    except yaml.MarkedYAMLError as error:
        line, column, code, message, hint = _mistake(error, text)
        diagnostics.add(Position(file, line, column), code, message, hint)
        return None, sources
    except yaml.reader.ReaderError as error:
        line, column = _line_column(text, error.position)
        codepoint = error.character if isinstance(error.character, int) else ord(error.character)
        diagnostics.add(
            Position(file, line, column),
            "yaml.character",
            _("character U+{code} is not allowed in YAML ({reason})", code=f"{codepoint:04X}", reason=error.reason),
            _("remove it; policies are plain UTF-8 text"),
        )
        return None, sources
    except yaml.YAMLError:
        diagnostics.add(
            Position(file, 1, 1),
            "yaml.syntax",
            _("the file is not valid YAML"),
            _("check indentation, colons and quotes"),
        )
        return None, sources
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        diagnostics.add(Position(file, 1, 1), "yaml.empty", _("the policy file is empty"))
        return None, sources
    data = _convert(node, (), file, _Text(text), sources, diagnostics)
    return data, sources


def _mistake(error: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str, str, str]:
    """A YAML parse failure in the author's words: (line, column, code, message, hint).

    The parser's own text ("mapping values are not allowed here") is never shown: the common
    mistakes (a tab, a wrong indent, a missing colon, an unclosed quote or bracket) are
    recognised from where the parser stopped and the lines around it.
    """
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.split("\n")
    problem, context = error.problem or "", error.context or ""
    if "'\\t'" in problem:
        return (
            line,
            column,
            "yaml.tab",
            _("a tab character; YAML indents with spaces only"),
            _("replace the tab with spaces (two for each level)"),
        )
    if "could not find expected ':'" in problem and error.context_mark is not None:
        key_line = error.context_mark.line + 1
        return (
            key_line,
            error.context_mark.column + 1,
            "yaml.colon",
        ) + _missing_colon(lines[key_line - 1])
    if "mapping values are not allowed" in problem:
        here, above = _indent(lines[line - 1]), _previous_line(lines, line - 1)
        if above is not None:
            above_line, above_text = above
            if here > _indent(above_text) and ":" in above_text:
                key = lines[line - 1].strip().split(":", 1)[0]
                return (
                    line,
                    here + 1,
                    "yaml.indent",
                    _("'{key}' is indented further than the line above", key=key),
                    _("keys of one mapping start in the same column; indent '{key}' like the key above it", key=key),
                )
            if ":" not in above_text and here == _indent(above_text):
                return (above_line, _indent(above_text) + 1, "yaml.colon") + _missing_colon(above_text)
        return (
            line,
            column,
            "yaml.colon_in_text",
            _("a ': ' inside a value that is not in quotes"),
            _('put the value in quotes, for example: title: "A: B"'),
        )
    opened = _open_quote(lines, line - 1) if "'<scalar>'" in problem else None
    if opened is not None:  # a quote left open swallowed the lines after it, up to the next quote
        return (
            *opened,
            "yaml.quote",
            _("this quoted text has no closing quote"),
            _("end the text with the same quote it starts with"),
        )
    if "expected <block end>" in problem or "expected <block mapping start>" in problem:
        return (
            line,
            column,
            "yaml.indent",
            _("the indentation of this line does not match the lines above"),
            _("indent the keys of one mapping (and the items of one list) by the same number of spaces"),
        )
    if "quoted scalar" in context:
        start = cast(Mark, error.context_mark)  # a quote or bracket left open has its start
        return (
            start.line + 1,
            start.column + 1,
            "yaml.quote",
            _("this quoted text has no closing quote"),
            _("end the text with the same quote it starts with"),
        )
    if "flow sequence" in context or "flow mapping" in context:
        start = cast(Mark, error.context_mark)  # a quote or bracket left open has its start
        closing = "]" if "sequence" in context else "}"
        return (
            start.line + 1,
            start.column + 1,
            "yaml.syntax",
            _(
                "this '{opening}' is not closed with '{closing}'",
                opening="[" if closing == "]" else "{",
                closing=closing,
            ),
            _("close it on the same line, and separate its items with ', '"),
        )
    return (
        line,
        column,
        "yaml.syntax",
        _("this is not valid YAML"),
        _("check indentation, colons and quotes near this place"),
    )


def _open_quote(lines: list[str], index: int) -> tuple[int, int] | None:
    """(line, column) of a double quote left open on a line above line `index` (0-based), if any."""
    for number in range(index, 0, -1):
        text = lines[number - 1]
        if text.count('"') % 2 == 1:
            return number, text.index('"') + 1
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _previous_line(lines: list[str], index: int) -> tuple[int, str] | None:
    """(1-based number, text) of the nearest line above `index` that holds something."""
    for number in range(index, 0, -1):
        content = lines[number - 1].strip()
        if content and not content.startswith("#"):
            return number, lines[number - 1]
    return None


def _missing_colon(line: str) -> tuple[str, str]:
    """Message and hint for a key written without its ':' ('maximum 3')."""
    key, _sep, rest = line.strip().partition(" ")
    written = f"{key}: {rest.strip()}" if rest.strip() else f"{key}:"
    return (
        _("missing ':' after '{key}'", key=key),
        _("a key and its value are separated by ': ', for example '{written}'", written=written),
    )


def _split_by_comma(value: Node, key: Node, key_value: Node, text: str) -> bool:
    """Whether `{a: 0,5}` was read as a: 0 and a key '5' without value (a decimal comma)."""
    plain = [isinstance(n, ScalarNode) and not n.style for n in (value, key, key_value)]
    return (
        all(plain)
        and value.value.lstrip("+-").isdigit()
        and key.value.isdigit()
        and key_value.value == ""
        and text[value.end_mark.index : key.start_mark.index] == ","
    )


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


class _Text:
    """The source text with its line starts, to turn a character index into a line and column."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def starts(self) -> list[int]:
        """Where each line begins; only a value written over several lines needs them."""
        return [0] + [found.end() for found in re.finditer("\n", self.text)]

    def place(self, index: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def _places(node: ScalarNode, source: _Text) -> tuple[tuple[int, int, str], ...]:
    """(line, column, character) in the file for each character of a scalar written over several
    lines. Folding turns line breaks and indentation into spaces; the other characters appear
    in the file in the same order, so each is found by scanning forward."""
    text, j = source.text, node.start_mark.index
    end = node.end_mark.index
    if node.style in ("|", ">"):
        j = text.index("\n", j) + 1  # content starts after the header line
    elif node.style in ("'", '"'):
        j += 1
    places: list[tuple[int, int, str]] = []
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


def _convert(node: Node, path: Path, file: str, source: _Text, sources: SourceMap, diagnostics: Diagnostics) -> Any:
    position = Position(file, node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _STANDARD_TAGS:
        diagnostics.add(
            position,
            "yaml.tag",
            _("YAML tag {tag} is not allowed in a policy", tag=node.tag),
            _("remove the tag; policies hold plain values only"),
        )
        return None
    if isinstance(node, MappingNode):
        sources.origins[path] = Origin(position, None)
        result: dict[str, Any] = {}
        previous = None  # the pair before, to read {bobot: 0,5} back as the text '0,5'
        for key_node, value_node in node.value:
            if previous is not None and _split_by_comma(previous[1], key_node, value_node, source.text):
                result[previous[0]] = f"{previous[1].value},{key_node.value}"  # the schema says why it is wrong
                previous = None
                continue
            previous = (key_node.value, value_node)
            if not isinstance(key_node, ScalarNode):
                diagnostics.add(
                    Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                    "yaml.key",
                    _("a key must be a plain name"),
                )
                continue
            key = key_node.value
            key_position = Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                diagnostics.add(
                    key_position,
                    "yaml.duplicate_key",
                    _("'{key}' appears twice in this mapping", key=key),
                    _("keep one; YAML would silently take the last"),
                )
                continue
            result[key] = _convert(value_node, path + (key,), file, source, sources, diagnostics)
            if path + (key,) not in sources.origins:
                sources.origins[path + (key,)] = Origin(key_position, None)
            sources.origins[path + (key, "")] = Origin(key_position, None)  # the key itself
        return result
    if isinstance(node, SequenceNode):
        sources.origins[path] = Origin(position, None)
        return [_convert(item, path + (i,), file, source, sources, diagnostics) for i, item in enumerate(node.value)]
    node = cast(ScalarNode, node)  # neither mapping nor sequence
    style = node.style if node.style in ("'", '"', "|", ">") else None
    spans_lines = style in ("|", ">") or node.start_mark.line != node.end_mark.line
    sources.origins[path] = Origin(position, style, _places(node, source) if spans_lines and node.value else None)
    return _scalar(node, position, diagnostics)


def _scalar(node: ScalarNode, position: Position, diagnostics: Diagnostics) -> Fraction | str | bool | None:
    value: str  # a scalar's text
    tag, value = node.tag.rsplit(":", 1)[-1], node.value
    if node.style is not None and node.style != "":
        return value  # quoted or block: always text
    if tag == "null":
        return None
    if tag == "bool":
        return True if value in _TRUE else False if value in _FALSE else value
    if tag in ("int", "float"):
        if value.lower().lstrip("+-") in (".inf", ".nan"):
            diagnostics.add(
                position, "yaml.number", _("{value} is not a finite number", value=value), _("write a plain number")
            )
            return None
        try:
            return parse_number(value.lstrip("+"))
        except NotANumber:
            return value  # 0x1F, 1_000, 1:30 and the like stay text
        except NumberError as error:
            diagnostics.add(position, "yaml.number", str(error))
            return None
    return value
