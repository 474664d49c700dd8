"""'Did you mean ...?' in bounded time, however many names a policy has.

difflib compared each unknown name with every visible name: 4,000 unknown names in a policy of
8,000 took over a minute. Here the visible names are indexed once by their trigrams, a query
reads at most MAX_POSTINGS index entries (rarest trigrams first, as they say the most) and
difflib then ranks at most MAX_CANDIDATES names; past MAX_SUGGESTED queries per index no
suggestion is computed at all, so a policy full of typos still checks in linear time.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable

#: Most index entries one query reads.
MAX_POSTINGS = 400
#: Most names difflib ranks for one query.
MAX_CANDIDATES = 12
#: Most suggestions computed per index (one policy scope); later unknown names get none.
MAX_SUGGESTED = 500
#: How alike a suggestion must be (difflib's ratio), as before.
CUTOFF = 0.6


def _trigrams(word: str) -> set[str]:
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class NameIndex:
    """Names by trigram, built once; `closest` answers in bounded time."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(dict.fromkeys(names))
        self.postings: dict[str, list[int]] = defaultdict(list)
        for number, name in enumerate(self.names):
            for gram in _trigrams(name):
                self.postings[gram].append(number)
        self.asked = 0

    def closest(self, word: str, extra: tuple[str, ...] = ()) -> str | None:
        """The most alike name (or one of `extra`, few names such as aggregate variables), or None."""
        self.asked += 1
        if self.asked > MAX_SUGGESTED:
            return None
        counts: dict[int, int] = defaultdict(int)
        budget = MAX_POSTINGS
        for gram in sorted(_trigrams(word), key=lambda g: len(self.postings.get(g, ()))):
            entries = self.postings.get(gram, ())
            for number in entries[:budget]:
                counts[number] += 1
            budget -= min(budget, len(entries))
            if budget <= 0:
                break
        best = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_CANDIDATES]
        candidates = [self.names[k] for k in best] + list(extra)
        found = difflib.get_close_matches(word, candidates, n=1, cutoff=CUTOFF)
        return found[0] if found else None


def index_for(owner: object, key: tuple[str | None, ...], names: Callable[[], Iterable[str]]) -> NameIndex:
    """The index of `names` for `owner` (a policy) and `key` (a scope), built on first use and kept
    on the owner, so that concurrent checks of different policies never share one."""
    indexes: dict[tuple[str | None, ...], NameIndex] = owner.__dict__.setdefault("_name_indexes", {})
    if key not in indexes:
        indexes[key] = NameIndex(names())
    return indexes[key]
