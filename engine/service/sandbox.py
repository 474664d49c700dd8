"""Running untrusted work (a policy sent to POST /v1/policies/check) within a budget.

The static bounds make a checked policy cheap to evaluate, but checking itself reads YAML, a
schema and every formula of text anyone with a key can send. So a check runs in a child process
forked from a clean server process (multiprocessing's forkserver, with the engine preloaded, so
a fork costs milliseconds), with an address-space limit and a CPU limit, killed when its
wall-clock time is up. The server's own threads and memory are never spent on it, and the GIL
stays free for other requests. At most MAX_CONCURRENT_CHECKS run at once; another request is
refused at once (Busy) rather than queued, so that hostile checks cannot occupy every thread.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable

from engine.i18n import language, set_language

#: Wall-clock seconds one check may take.
CHECK_SECONDS = 10
#: Address space one check may use, in bytes.
CHECK_MEMORY_BYTES = 1024 * 1024 * 1024
#: Checks running at once per server process; more are refused with 503 and Retry-After.
MAX_CONCURRENT_CHECKS = 2
#: Seconds to wait for a free slot before refusing.
SLOT_WAIT_SECONDS = 0.1


class Busy(Exception):
    """Every slot is taken: the request may be sent again shortly."""


class OverBudget(Exception):
    """The work passed its time or memory budget and was stopped."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what  # "time" or "memory"


_slots = threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS)
_context_lock = threading.Lock()
_context = None


def _forkserver():
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["engine.api", "engine.policy.checks"])
            _context = context
    return _context


def run_limited(function: Callable, *args, seconds: float = CHECK_SECONDS, memory: int = CHECK_MEMORY_BYTES):
    """function(*args) in a child process within `seconds` and `memory`; its result (picklable).
    Raises Busy when no slot frees within SLOT_WAIT_SECONDS, OverBudget when the child is
    stopped, and re-raises (as RuntimeError) an error the function raised."""
    if not _slots.acquire(timeout=SLOT_WAIT_SECONDS):
        raise Busy()
    try:
        context = _forkserver()
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(sending, function, args, memory, seconds, language()), daemon=True)
        child.start()
        sending.close()
        try:
            if not receiving.poll(seconds):
                raise OverBudget("time")
            try:
                kind, value = receiving.recv()
            except (EOFError, OSError):  # killed by its limits before it could answer
                raise OverBudget("memory") from None
        finally:
            receiving.close()
            if child.is_alive():
                child.kill()
            child.join(5)
        if kind == "ok":
            return value
        if kind == "memory":
            raise OverBudget("memory")
        raise RuntimeError(value)
    finally:
        _slots.release()


def _child(sending, function: Callable, args: tuple, memory: int, seconds: float, lang: str) -> None:
    """Runs in the forkserver's child, which inherits none of the request's context: the language
    of its messages comes as an argument."""
    import resource

    set_language(lang)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    try:
        answer = ("ok", function(*args))
    except MemoryError:
        answer = ("memory", None)
    except Exception as error:  # returned to the parent, which reports it
        answer = ("error", f"{type(error).__name__}: {error}")
    try:
        sending.send(answer)
    except MemoryError:
        sending.send(("memory", None))
    sending.close()
