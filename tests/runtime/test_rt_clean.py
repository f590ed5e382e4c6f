"""Cleaning the cache: everything, or what a plan no longer references."""

from __future__ import annotations

from pathlib import Path

import pytest
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from rt_helpers import executed, query
from rt_toy_backend import ToyBackend, make_plan

OLD = [("a", "plate", {"x": 1}, [], 100), ("b", "portrait", {"x": 2}, [], 100), ("c", "compose", {}, ["a", "b"], 100)]
NEW = [*OLD[:2], ("c", "compose", {"lens": 35}, ["a", "b"], 100)]


def object_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def test_clean_unreferenced_keeps_what_the_plan_uses(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    old, new = make_plan(OLD), make_plan(NEW)
    execute(old, ToyBackend(), cache, processes=False)
    execute(new, ToyBackend(), cache, processes=False)
    stale = cache.object_dir(old.nodes[2].id)
    size = object_bytes(stale)
    report = cache.clean(unreferenced_by=new)
    assert (report.removed, report.bytes_freed) == (1, size)
    assert not stale.exists()
    assert query(cache.root, "SELECT COUNT(*) FROM nodes WHERE id = ?", old.nodes[2].id) == [(0,)]
    again = execute(new, ToyBackend(), cache, processes=False)
    assert executed(cache.root, again.run_id) == [] and again.cached == 3
    rebuilt = execute(old, ToyBackend(), cache, processes=False)
    assert executed(cache.root, rebuilt.run_id) == [old.nodes[2].id]


def test_clean_all_empties_the_store_but_keeps_history(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    plan = make_plan(OLD)
    execute(plan, ToyBackend(), cache, processes=False)
    report = cache.clean(all=True)
    assert report.removed == 3 and report.bytes_freed > 0
    assert not [p for p in (cache.root / "objects").rglob("*") if p.is_file()]
    assert query(cache.root, "SELECT COUNT(*) FROM nodes") == [(0,)]
    assert query(cache.root, "SELECT COUNT(*) FROM runs") == [(1,)]
    result = execute(plan, ToyBackend(), cache, processes=False)
    assert result.ran == 3
    with pytest.raises(ValueError, match="exactly one"):
        cache.clean()
