"""The facade owns the order: the evaluation layer never imports it, and what it keeps in memory
is bounded."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import engine.evaluate
from engine import api
from engine.evaluate.io import decode_json, encode
from engine.lru import LRU
from engine.policy import versions
from engine.policy.document import available


def test_the_evaluation_layer_imports_without_the_facade():
    """engine.evaluate.* sits below engine.api: importing every module of it leaves the facade out."""
    modules = sorted(f"engine.evaluate.{m.name}" for m in pkgutil.iter_modules(engine.evaluate.__path__))
    assert "engine.evaluate.batch" in modules and "engine.evaluate.kernel" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m in ('engine.api', 'engine.service', 'engine.cli')))"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


def test_the_policy_cache_stays_within_its_bound(monkeypatch):
    bound = 2
    monkeypatch.setattr(api, "_cache", LRU(bound))
    ids = sorted({path.stem.split("@")[0] for path in available().values()})[:4]
    assert len(ids) > bound
    for policy_id in ids:
        api.load(policy_id)
        assert len(api._cache) <= bound
    assert len(api._cache) == bound
    assert api.load(ids[0]).policy.id == ids[0]  # forgotten, read again


def test_the_version_cache_stays_within_its_bound(monkeypatch):
    monkeypatch.setattr(versions, "_info_cache", LRU(1))
    paths = list(available().values())[:3]
    for path in paths:
        versions.read_info(path)
    assert len(versions._info_cache) == 1


def test_least_recently_used_is_forgotten_first():
    cache: LRU[int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_the_kernel_is_made_once_per_loaded_policy():
    loaded = api.load("pp-30-2019")
    assert loaded.kernel is loaded.kernel is api.fast(loaded)


def test_one_rule_gives_the_exact_result_whoever_decides():
    """A record the kernel decides and one it hands back (a problem to explain) give what the exact
    evaluator gives, byte for byte."""
    loaded = api.load("pp-30-2019")
    good = decode_json(b'{"id": "a", "iki": [{"target": 100, "realisasi": 92}], "nilai_perilaku": 100}')
    for record, by_kernel in ((good, True), ({"id": "b"}, False)):
        result, fast = loaded.decide(record)
        assert fast is by_kernel
        assert encode(result) == encode(api.evaluate(loaded, record))
