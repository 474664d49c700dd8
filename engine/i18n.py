"""Messages a person reads: Bahasa Indonesia by default, English on request.

Code writes English message ids with named placeholders, `_("must be a whole number, got {got}",
got=...)`; the Indonesian texts live in the gettext catalogue `engine/locale/id/LC_MESSAGES/
kinerja.po`, kept with Babel (`pybabel extract -F babel.cfg`, see CONTRIBUTING.md) and read at run
time with Babel's own reader, so no compiled file can go stale. English is the message id itself.

The language in force is a context variable, so a message built deep in the engine needs no
`lang` argument: the CLI sets it from `--lang` or `KINERJA_LANG`, the API from `Accept-Language`,
the web from the reader's choice. Codes (`name.unknown`, `type`) never change with the language.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
DOMAIN = "kinerja"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("kinerja_language", default=None)


def normalise(lang: str | None) -> str | None:
    """'en', 'en-US', 'EN_gb' -> 'en'; 'id', 'in' (the old code) -> 'id'; anything else -> None."""
    if not lang:
        return None
    base = lang.strip().replace("_", "-").split("-")[0].lower()
    base = "id" if base == "in" else base
    return base if base in LANGUAGES else None


def language() -> str:
    """The language in force: the context's, else KINERJA_LANG, else Indonesian."""
    return _language.get() or normalise(os.environ.get("KINERJA_LANG")) or DEFAULT_LANGUAGE


def set_language(lang: str | None) -> contextvars.Token:
    """Set the language for the rest of this context (a CLI run, a request); returns the reset token."""
    return _language.set(normalise(lang))


def reset_language(token: contextvars.Token) -> None:
    _language.reset(token)


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Within the block, messages are in `lang` (None: the default rules)."""
    token = set_language(lang)
    try:
        yield language()
    finally:
        _language.reset(token)


def negotiate(accept_language: str | None) -> str | None:
    """The best of our languages for an HTTP Accept-Language header, or None when it names none."""
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        tag, _sep, params = part.strip().partition(";")
        lang = normalise(tag)
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, lang)
    return best[1] if best else None


@functools.lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    """msgid -> translation for one language (English has none: the msgid is the text)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        messages = read_po(handle, locale=lang)
    table: dict[str, str | tuple[str, ...]] = {}
    for message in messages:
        if not message.id or message.fuzzy or not message.string:
            continue
        key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
        if isinstance(message.string, (tuple, list)):
            if all(message.string):
                table[key] = tuple(message.string)
        else:
            table[key] = message.string
    return table


def gettext(message: str, lang: str | None = None) -> str:
    """The text of `message` in `lang` (default: the language in force), unformatted."""
    translated = catalogue(lang or language()).get(message)
    return translated if isinstance(translated, str) else message


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """Singular or plural text; Indonesian has one form, English two."""
    translated = catalogue(lang or language()).get(singular)
    if isinstance(translated, tuple):
        return translated[0] if len(translated) == 1 or n == 1 else translated[1]
    return singular if n == 1 else plural


def _(message: str, /, **params: object) -> str:
    """Translate, then fill the named placeholders: `_("got {got}", got=3)`."""
    text = gettext(message)
    return text.format(**params) if params else text


def N_(message: str, /) -> str:
    """Marks a message id for the catalogue where it is defined; translate it where it is shown."""
    return message


def decimal_mark(lang: str | None = None) -> str:
    """',' in Indonesian, '.' in English: numbers shown to a person follow the language."""
    return "." if (lang or language()) == "en" else ","
