"""Checked policy -> its rulebook in Bahasa Indonesia: Markdown, or one self-contained HTML file.

Policy reviewers (inspectorate, BKN, auditors, unions) read tables, not YAML. What the rulebook
says is decided once, as a small document of sections, paragraphs, tables and formulas; two
writers put that into Markdown (plain-text math) or HTML (MathML, inline CSS, nothing fetched,
no script). Policy text is untrusted: every string from a policy reaches the output only through
a writer's escaping, so it is always shown as text.
"""

from engine.review.rulebook.book import (  # noqa: F401 (the rulebook's public names)
    BOUND_WORDS,
    HIT_WORDS,
    TYPE_WORDS,
    cell_words,
    value_anchors,
)
from engine.review.rulebook.notation import (  # noqa: F401
    AGGREGATE_WORDS,
    COMPARE_SIGNS,
    FUNCTION_WORDS,
    ROUNDING_WORDS,
    literal,
    number,
    plain_math,
)
from engine.review.rulebook.writers import render_fragment, render_html, render_markdown  # noqa: F401
