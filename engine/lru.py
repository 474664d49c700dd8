"""A bounded, thread-safe mapping that forgets the entry used least recently.

Why: the facade and the version index keep what they read from disk (a checked, compiled policy
with its kernel; a file's validity dates) for as long as the process lives. A server that reads
many policies must not grow without bound, so each such cache states its size by name.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    """At most `limit` entries; `get` makes an entry the most recent, `put` forgets the oldest."""

    def __init__(self, limit: int):
        self.limit = limit
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
