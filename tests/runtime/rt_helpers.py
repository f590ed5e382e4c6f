"""Reading the cache index directly with sqlite3, so tests do not trust the code they test."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def query(cache_root: Path, sql: str, *args: object) -> list[tuple]:
    db = sqlite3.connect(f"file:{cache_root / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def executed(cache_root: Path, run_id: int) -> list[str]:
    """Node ids whose execution started in that run (one entry per attempt)."""
    return [r[0] for r in query(cache_root, "SELECT node_id FROM executions WHERE run_id = ? ORDER BY started",
                                run_id)]


def done_ids(cache_root: Path) -> set[str]:
    return {r[0] for r in query(cache_root, "SELECT id FROM nodes WHERE status = 'done'")}


def intervals(cache_root: Path) -> dict[str, tuple[float, float]]:
    """label -> (started, finished) of finished nodes, as the workers measured them."""
    rows = query(cache_root, "SELECT label, started, finished FROM nodes WHERE status = 'done'")
    return {label: (start, end) for label, start, end in rows}


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])
