"""The rulebook's two writers: Markdown (plain-text math) and one self-contained HTML file
(MathML, inline CSS, nothing fetched, no script). Policy text is untrusted: every string from a
policy reaches the output only through a writer's escaping, so it is always shown as text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.language import nodes as n
from engine.review.rulebook.book import (
    Display,
    Grid,
    Items,
    Math,
    Name,
    Para,
    Section,
    _Book,
    _parts,
)
from engine.review.rulebook.notation import _MathML, _x, plain_math

if TYPE_CHECKING:
    from engine.review.rulebook.book import AnyPolicy


# Writers -------------------------------------------------------------------------------------

#: What Markdown would read as markup: emphasis, code, links, tables, raw HTML (`<` before a tag
#: name, an entity), and at a line's start headings and quotes.
_MD_SPECIAL = re.compile(r"[\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|<(?=[A-Za-z/!?])|&(?=#|\w+;)")
_MD_LINE_START = re.compile(r"^( {0,3})([#>])", flags=re.MULTILINE)


def _md(text: str, in_cell: bool = False) -> str:
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return text if in_cell else _MD_LINE_START.sub(r"\1\\\2", text)


def _md_code(text: str) -> str:
    text = " ".join(text.split())
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs) + 1 if runs else 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_inline(parts: list, in_cell: bool = False) -> str:
    out = []
    for part in parts:
        if isinstance(part, (Name, Math)):
            code = _md_code(part.text if isinstance(part, Name) else plain_math(part.node))
            out.append(code.replace("|", "\\|") if in_cell else code)  # GFM splits cells even inside code
        else:
            out.append(_md(str(part), in_cell))
    return "".join(out)


def _md_cell(parts: list) -> str:
    return " ".join(_md_inline(parts, in_cell=True).split()) or " "


def _md_block(block) -> list[str]:
    if isinstance(block, Section):
        lines = ["#" * block.level + " " + _md_inline(_parts(block.title)), ""]
        for child in block.blocks:
            lines += _md_block(child)
        return lines
    if isinstance(block, Para):
        text = _md_inline(block.parts)
        if block.cls == "uraian":
            text = "  \n".join(_md(line.rstrip()) if line.strip() else "" for line in block.parts[0].splitlines())
        return [text, ""]
    if isinstance(block, Display):
        return [_md_code(f"{block.lhs} = {plain_math(block.node)}"), ""]
    if isinstance(block, Items):
        return [f"- {_md_inline(item)}" for item in block.items] + [""]
    if isinstance(block, Grid):
        lines = [f"*{_md_inline(block.caption)}*", ""] if block.caption else []
        lines.append("| " + " | ".join(_md_cell(h) for h in block.head) + " |")
        lines.append("|" + "|".join("---" for _ in block.head) + "|")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        return lines + [""]
    raise TypeError(type(block).__name__)


def render_markdown(policy: AnyPolicy, report=None, previous: AnyPolicy | None = None) -> str:
    """The rulebook as Markdown: GitHub tables, formulas as plain-text math in code spans."""
    book = _Book(policy, report, previous)
    lines = [f"# Buku aturan: {_md(policy.title or policy.id)}", ""]
    for section in book.sections():
        lines += _md_block(section)
    return "\n".join(lines).rstrip("\n") + "\n"


def _h_inline(parts: list) -> str:
    out = []
    for part in parts:
        if isinstance(part, Name):
            code = "<code>" + re.sub(r"([.\]])", r"\1<wbr>", _x(part.text)) + "</code>"
            out.append(f'<a href="#{_x(part.anchor)}">{code}</a>' if part.anchor else code)
        elif isinstance(part, Math):
            out.append(f'<span class="rumus">{_math(part.node)}</span>')
        else:
            out.append(_x(str(part)))
    return "".join(out)


def _math(node: n.Expr, lhs: str | None = None) -> str:
    """Fractions at full size (displaystyle) also inside tables; laid out inline, left-aligned."""
    body = _MathML().show(node)
    text = plain_math(node)
    if lhs is not None:
        body, text = f"<mrow><mi>{_x(lhs)}</mi><mo>=</mo>{body}</mrow>", f"{lhs} = {text}"
    return f'<math displaystyle="true" alttext="{_x(text)}">{body}</math>'


def _h_block(block) -> str:
    if isinstance(block, Section):
        tag = f"h{block.level}"
        inner = "".join(_h_block(b) for b in block.blocks)
        cls = ' class="nilai"' if block.level == 3 else ""
        title = _h_inline(_parts(block.title))
        return f'<section id="{_x(block.anchor)}"{cls}><{tag}>{title}</{tag}>{inner}</section>\n'
    if isinstance(block, Para):
        cls = f' class="{block.cls}"' if block.cls else ""
        return f"<p{cls}>{_h_inline(block.parts)}</p>\n"
    if isinstance(block, Display):
        return f'<div class="rumus">{_math(block.node, block.lhs)}</div>\n'
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{_h_inline(item)}</li>" for item in block.items) + "</ul>\n"
    if isinstance(block, Grid):
        caption = f"<caption>{_h_inline(block.caption)}</caption>" if block.caption else ""
        head = "".join(f'<th scope="col">{_h_inline(h)}</th>' for h in block.head)
        body = []
        for i, row in enumerate(block.rows):
            row_id = f' id="{_x(block.row_ids[i])}"' if block.row_ids else ""
            cells = [
                f'<th scope="row">{_h_inline(c)}</th>' if j == 0 and block.row_head else f"<td>{_h_inline(c)}</td>"
                for j, c in enumerate(row)
            ]
            body.append(f"<tr{row_id}>{''.join(cells)}</tr>")
        return (
            f'<table class="{block.cls}">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>\n"
        )
    raise TypeError(type(block).__name__)


_STYLE = """
:root { color: #111; background: #fff; }
body { font: 11pt/1.45 "DejaVu Serif", Georgia, serif; margin: 0 auto; max-width: 60rem; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; } h2 { font-size: 1.3rem; border-bottom: 2px solid #111;
  margin-top: 2rem; } h3 { font-size: 1.1rem; margin: 1.6rem 0 .4rem; }
code { font: .9em "DejaVu Sans Mono", monospace; overflow-wrap: break-word; }
a { color: inherit; }
table { border-collapse: collapse; margin: .6rem 0 1rem; width: 100%; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: .25rem; }
th, td { border: 1px solid #444; padding: .25rem .45rem; text-align: left; vertical-align: top; }
thead th { background: #e6e6e6; }
tbody th { background: #f3f3f3; font-weight: 600; }
table.matriks td, table.tabel-bobot td { text-align: center; }
.rumus { font-size: 1.05em; }
div.rumus { margin: .5rem 0 .7rem; padding: .45rem .7rem; border-left: 4px solid #111; background: #f6f6f6;
  overflow-x: auto; }
mtd { text-align: left; padding: .2em .5em .2em 0; }
.uraian { white-space: pre-line; }
.judul-kecil { font-weight: 600; margin-bottom: .2rem; }
.jenis { font-style: italic; margin: 0 0 .3rem; }
.dasar { border-top: 1px dotted #666; padding-top: .2rem; font-size: .95em; }
section.nilai { border-top: 1px solid #bbb; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  :root, body { background: #fff; color: #000; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  a { text-decoration: none; }
  table, tr, div.rumus, figure { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  h2, h3, .judul-kecil { break-after: avoid; page-break-after: avoid; }
  h2 { break-before: auto; }
  thead th, tbody th, div.rumus { background: #fff !important; }
  div.rumus { border-left: 2pt solid #000; }
  th, td { border-color: #000; }
}
"""


def render_fragment(policy: AnyPolicy, report=None, previous: AnyPolicy | None = None) -> str:
    """The rulebook's sections as HTML to place inside a page (the web's /kebijakan/<id>): the same
    sections and anchors as `render_html` (`nilai-<name>` per value), without a document around them."""
    return "".join(_h_block(section) for section in _Book(policy, report, previous).sections())


def render_html(policy: AnyPolicy, report=None, previous: AnyPolicy | None = None) -> str:
    """The rulebook as one HTML file: inline style only, MathML formulas, no script, nothing fetched."""
    title = f"Buku aturan: {policy.title or policy.id}"
    body = render_fragment(policy, report, previous)
    return (
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_x(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{_x(title)}</h1><p><code>{_x(policy.id)}</code> versi {_x(policy.version)}</p></header>\n"
        f"<main>\n{body}</main>\n</body>\n</html>\n"
    )
