"""The content-addressed store of node outputs, and its SQLite index.

Layout (default `.filmc/` beside the film):

    .filmc/objects/<id[:2]>/<id>/        a finished node's outputs + `.filmc-object.json`
    .filmc/objects/<id[:2]>/.tmp-<id>-*  a node being written (never read)
    .filmc/tmp/                          per-node scratch folders
    .filmc/index.sqlite                  what was built, when, by what, from which spans

An object folder appears only by an atomic rename of a complete temp folder, and
carries its own manifest (sizes, sha256), so the folder alone proves a node
finished: if a build dies between the rename and the index write, the next build
verifies the manifest and adopts the object instead of rendering it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from filmc.compiler.render_plan import PlanNode, RenderPlan

from .backend import NodeOutputs

MANIFEST = ".filmc-object.json"
INDEX_SCHEMA = "filmc-cache.1"
CACHE_DIR_ENV = "FILMC_CACHE_DIR"
_TMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    op TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,              -- done | failed | corrupt
    backend TEXT NOT NULL,
    backend_version TEXT NOT NULL,
    started REAL,
    finished REAL,
    duration REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    film TEXT NOT NULL DEFAULT '',
    spans TEXT NOT NULL DEFAULT '[]',  -- JSON list of "file:line:col"
    error TEXT,
    adopted INTEGER NOT NULL DEFAULT 0,
    last_used REAL
);
CREATE TABLE IF NOT EXISTS outputs (
    node_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                -- file | dir
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (node_id, name)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    film TEXT NOT NULL,
    backend TEXT NOT NULL,
    jobs INTEGER NOT NULL,
    status TEXT NOT NULL,              -- running | ok | failed | stopped | interrupted
    ran INTEGER, cached INTEGER, failed INTEGER, skipped INTEGER
);
CREATE TABLE IF NOT EXISTS executions (
    run_id INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    op TEXT NOT NULL,
    label TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,              -- running | done | failed | abandoned
    error TEXT,
    PRIMARY KEY (run_id, node_id, attempt)
);
"""


INDEX_NAME = "index.sqlite"
"""The cache's SQLite index, at its root: absent until a build first opens the cache."""


class CacheBusy(RuntimeError):
    """Another build holds the cache."""


@dataclass(frozen=True)
class OutputRecord:
    """One declared output as stored: size and sha256 prove integrity; mtime_ns lets a
    quick check skip hashing when the file was not touched."""

    name: str
    kind: Literal["file", "dir"]
    size: int
    sha256: str
    mtime_ns: int

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Integrity:
    state: Literal["ok", "missing", "corrupt"]
    detail: str = ""
    adopted: bool = False
    """The object had no index record and was accepted from its verified manifest."""


@dataclass(frozen=True)
class CleanReport:
    removed: int
    bytes_freed: int


def check_output_name(name: str) -> None:
    """Output names are relative paths inside the node's folder; refuse anything else."""
    p = Path(name)
    if not name or p.is_absolute() or ".." in p.parts or p.parts[0] == MANIFEST or name.startswith(_TMP_PREFIX):
        raise ValueError(f"invalid output name {name!r}: use a relative path inside the node's folder")


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _dir_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def _stat_signature(path: Path) -> tuple[str, int, int] | None:
    """(kind, size, mtime_ns) of an output, or None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(st.st_mode):
        files = _dir_files(path)
        stats = [f.stat() for f in files]
        return "dir", sum(s.st_size for s in stats), max([st.st_mtime_ns, *(s.st_mtime_ns for s in stats)])
    return "file", st.st_size, st.st_mtime_ns


def _content_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's sorted (relative path, size, sha256) listing."""
    if not path.is_dir():
        return _file_sha256(path)
    h = hashlib.sha256()
    for f in _dir_files(path):
        h.update(f"{f.relative_to(path).as_posix()}\0{f.stat().st_size}\0{_file_sha256(f)}\n".encode())
    return h.hexdigest()


def measure_outputs(directory: Path, names: Iterable[str]) -> list[OutputRecord]:
    """Size and hash every declared output under `directory`; a missing one is an error."""
    records = []
    for name in names:
        path = directory / name
        sig = _stat_signature(path)
        if sig is None:
            raise FileNotFoundError(f"declared output {name!r} was not written")
        kind, size, mtime_ns = sig
        records.append(OutputRecord(name, kind, size, _content_sha256(path), mtime_ns))  # type: ignore[arg-type]
    return records


def write_manifest(directory: Path, node: PlanNode, backend: str, backend_version: str,
                   records: list[OutputRecord], *, film: str = "", started: float | None = None,
                   finished: float | None = None) -> None:
    """The object's own record: enough to verify it and to rebuild its index entry."""
    manifest = {
        "schema": INDEX_SCHEMA, "id": node.id, "op": node.op, "label": node.label, "params": node.params,
        "inputs": node.inputs, "backend": backend, "backend_version": backend_version, "film": film,
        "spans": [str(s) for s in node.spans], "started": started, "finished": finished,
        "outputs": [r.to_json() for r in records],
    }
    tmp = directory / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)


def available_memory_mb() -> int:
    """RAM the build may use: MemAvailable, capped by a cgroup (container) limit."""
    available: int | None = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) // 1024
                break
    if available is None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        usage = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            cgroup_free = (int(limit) - usage) // 2**20
            available = cgroup_free if available is None else min(available, cgroup_free)
    return max(available or 4096, 256)


class Cache:
    """A content-addressed object store with an SQLite index. Use from one thread at a time."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()
        self.objects = self.root / "objects"
        self.scratch_root = self.root / "tmp"
        self.index_path = self.root / INDEX_NAME
        self.objects.mkdir(parents=True, exist_ok=True)
        self.scratch_root.mkdir(exist_ok=True)
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            tmp = ignore.with_name(f".gitignore.{secrets.token_hex(4)}")
            tmp.write_text("# filmc build cache\n*\n", encoding="utf-8")
            os.replace(tmp, ignore)
        self.db = self._open_index()
        self._lock_fd: int | None = None
        self._shards: set[Path] = set()

    @classmethod
    def for_film(cls, film: Path | str, cache_dir: Path | str | None = None) -> Cache:
        """The cache of a film: `cache_dir` if given, else $FILMC_CACHE_DIR, else `.filmc/` beside it."""
        return cls(cls.directory_for(film, cache_dir))

    @staticmethod
    def directory_for(film: Path | str, cache_dir: Path | str | None = None) -> Path:
        """Where `for_film` puts a film's cache, without opening (or creating) it."""
        return Path(cache_dir or os.environ.get(CACHE_DIR_ENV) or Path(film).absolute().parent / ".filmc")

    # ----- index ---------------------------------------------------------------------------------------

    def _open_index(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.index_path, timeout=30.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: commits survive a killed process
        db.executescript(_SCHEMA_SQL)
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (INDEX_SCHEMA,))
        elif row[0] != INDEX_SCHEMA:
            raise RuntimeError(f"{self.index_path} has index schema {row[0]}, this filmc reads {INDEX_SCHEMA}; "
                               f"delete {self.root} to start a fresh cache")
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- locations -----------------------------------------------------------------------------------

    def object_dir(self, node_id: str) -> Path:
        """Where a node's outputs live once finished (the folder exists only then)."""
        return self.objects / node_id[:2] / node_id

    def output_path(self, node_id: str, name: str) -> Path:
        check_output_name(name)
        return self.object_dir(node_id) / name

    def outputs(self, node: PlanNode) -> NodeOutputs:
        directory = self.object_dir(node.id)
        return NodeOutputs(node.id, node.op, node.label, directory, {n: directory / n for n in node.outputs})

    def new_workdir(self, node_id: str) -> Path:
        """An empty temp folder beside the node's final place (same filesystem, so the
        final rename is atomic)."""
        parent = self.objects / node_id[:2]
        if parent not in self._shards:
            parent.mkdir(exist_ok=True)
            self._shards.add(parent)
        path = parent / f"{_TMP_PREFIX}{node_id}-{secrets.token_hex(4)}"
        path.mkdir()
        return path

    def new_scratch(self, node_id: str) -> Path:
        """A fresh scratch path for a node (created by the node only if it needs one)."""
        return self.scratch_root / f"{node_id}-{secrets.token_hex(4)}"

    # ----- records -------------------------------------------------------------------------------------

    def records(self) -> dict[str, list[OutputRecord]]:
        """Output records of every node the index lists as done, in one query."""
        found: dict[str, list[OutputRecord]] = {}
        rows = self.db.execute(
            "SELECT n.id, o.name, o.kind, o.size, o.sha256, o.mtime_ns FROM nodes n "
            "LEFT JOIN outputs o ON o.node_id = n.id WHERE n.status = 'done'")
        for node_id, name, kind, size, sha, mtime in rows:
            entry = found.setdefault(node_id, [])
            if name is not None:
                entry.append(OutputRecord(name, kind, size, sha, mtime))
        return found

    def record(self, node_id: str) -> list[OutputRecord] | None:
        rows = self.db.execute(
            "SELECT o.name, o.kind, o.size, o.sha256, o.mtime_ns FROM nodes n LEFT JOIN outputs o "
            "ON o.node_id = n.id WHERE n.id = ? AND n.status = 'done'", (node_id,)).fetchall()
        if not rows:
            return None
        return [OutputRecord(*r) for r in rows if r[0] is not None]

    def node_row(self, node_id: str) -> dict | None:
        cur = self.db.execute("SELECT * FROM nodes WHERE id = ?", (node_id,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    # ----- integrity -----------------------------------------------------------------------------------

    def check(self, node: PlanNode, recorded: list[OutputRecord] | None, *, deep: bool) -> Integrity:
        """Is the node's object present and intact? `recorded` is its index record (None when the
        index has none). Quick mode trusts an output whose size and mtime match the record and
        hashes the others; deep mode hashes everything. An object without a record is adopted
        when its manifest verifies."""
        directory = self.object_dir(node.id)
        if recorded is None:
            if not directory.is_dir():
                return Integrity("missing")
            return self._adopt(node, directory)
        by_name = {r.name: r for r in recorded}
        refreshed: list[OutputRecord] = []
        for name in node.outputs:
            rec = by_name.get(name)
            if rec is None:
                return Integrity("corrupt", f"output {name!r} has no index record")
            sig = _stat_signature(directory / name)
            if sig is None:
                if not directory.is_dir():
                    return Integrity("missing", "object folder is gone")
                return Integrity("corrupt", f"output {name!r} is missing")
            kind, size, mtime_ns = sig
            if kind != rec.kind or size != rec.size:
                return Integrity("corrupt", f"output {name!r} is {size} bytes, recorded {rec.size}")
            if not deep and mtime_ns == rec.mtime_ns:
                continue
            if _content_sha256(directory / name) != rec.sha256:
                return Integrity("corrupt", f"output {name!r} does not match its recorded sha256")
            if mtime_ns != rec.mtime_ns:
                refreshed.append(OutputRecord(name, rec.kind, rec.size, rec.sha256, mtime_ns))
        if not node.outputs and not directory.is_dir():
            return Integrity("missing", "object folder is gone")
        if refreshed:  # touched but intact: remember the new mtime so the next check is quick
            self.db.executemany("UPDATE outputs SET mtime_ns = ? WHERE node_id = ? AND name = ?",
                                [(r.mtime_ns, node.id, r.name) for r in refreshed])
        return Integrity("ok")

    def _adopt(self, node: PlanNode, directory: Path) -> Integrity:
        try:
            manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            listed = {o["name"]: o for o in manifest["outputs"]}
        except (OSError, ValueError, KeyError, TypeError):
            return Integrity("corrupt", "object has no index record and no readable manifest")
        if manifest.get("id") != node.id or set(listed) != set(node.outputs):
            return Integrity("corrupt", "object manifest does not describe this node")
        try:
            measured = measure_outputs(directory, node.outputs)
        except FileNotFoundError as exc:
            return Integrity("corrupt", str(exc))
        for rec in measured:
            if rec.size != listed[rec.name]["size"] or rec.sha256 != listed[rec.name]["sha256"]:
                return Integrity("corrupt", f"output {rec.name!r} does not match its manifest")
        self._record_done(node, measured, manifest.get("backend", ""), manifest.get("backend_version", ""),
                          film=manifest.get("film", ""), started=manifest.get("started"),
                          finished=manifest.get("finished"), attempts=0, adopted=True)
        return Integrity("ok", "adopted from its manifest", adopted=True)

    # ----- writing -------------------------------------------------------------------------------------

    def commit(self, node: PlanNode, workdir: Path, records: list[OutputRecord], *, backend: str,
               backend_version: str, film: str, started: float, finished: float, attempts: int,
               run_id: int | None = None) -> None:
        """Move a finished work folder into the store (atomic rename), then index it (and close
        its execution record of `run_id`, in the same transaction)."""
        final = self.object_dir(node.id)
        if final.exists():
            self.discard(final)
        os.rename(workdir, final)
        self._record_done(node, records, backend, backend_version, film=film, started=started,
                          finished=finished, attempts=attempts, adopted=False, run_id=run_id)

    def _record_done(self, node: PlanNode, records: list[OutputRecord], backend: str, backend_version: str, *,
                     film: str, started: float | None, finished: float | None, attempts: int,
                     adopted: bool, run_id: int | None = None) -> None:
        spans = json.dumps([str(s) for s in node.spans])
        duration = finished - started if started is not None and finished is not None else None
        with self.transaction() as db:
            if run_id is not None:
                db.execute("UPDATE executions SET finished = ?, status = 'done' WHERE run_id = ? AND node_id = ?"
                           " AND attempt = ?", (finished, run_id, node.id, attempts))
            db.execute(
                "INSERT OR REPLACE INTO nodes (id, op, label, status, backend, backend_version, started, finished,"
                " duration, attempts, film, spans, error, adopted, last_used)"
                " VALUES (?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (node.id, node.op, node.label, backend, backend_version, started, finished, duration, attempts,
                 film, spans, int(adopted), time.time()))
            db.execute("DELETE FROM outputs WHERE node_id = ?", (node.id,))
            db.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?, ?, ?)",
                           [(node.id, r.name, r.kind, r.size, r.sha256, r.mtime_ns) for r in records])

    def record_failure(self, node: PlanNode, *, status: Literal["failed", "corrupt"], error: str, backend: str,
                       backend_version: str, film: str, attempts: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO nodes (id, op, label, status, backend, backend_version, attempts, film,"
                " spans, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (node.id, node.op, node.label, status, backend, backend_version, attempts, film,
                 json.dumps([str(s) for s in node.spans]), error))
            db.execute("DELETE FROM outputs WHERE node_id = ?", (node.id,))

    def touch(self, node_ids: Iterable[str]) -> None:
        now = time.time()
        with self.transaction() as db:
            db.executemany("UPDATE nodes SET last_used = ? WHERE id = ?", [(now, i) for i in node_ids])

    def discard(self, path: Path) -> None:
        """Remove a folder so that it vanishes from its place atomically (rename, then delete)."""
        if not path.exists():
            return
        trash = path.parent / f"{_TRASH_PREFIX}{path.name}-{secrets.token_hex(4)}"
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def remove_stale_temporaries(self) -> int:
        """Delete work folders and scratch left by killed builds. Call only under `lock()`."""
        removed = 0
        for shard in self.objects.iterdir() if self.objects.is_dir() else ():
            if not shard.is_dir():
                continue
            for entry in shard.iterdir():
                if entry.name.startswith((_TMP_PREFIX, _TRASH_PREFIX)):
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
        for entry in self.scratch_root.iterdir():
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed += 1
        return removed

    # ----- runs ----------------------------------------------------------------------------------------

    def begin_run(self, film: str, backend: str, jobs: int) -> int:
        with self.transaction() as db:
            db.execute("UPDATE executions SET status = 'abandoned' WHERE status = 'running'")
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cur = db.execute("INSERT INTO runs (started, film, backend, jobs, status) VALUES (?, ?, ?, ?, 'running')",
                             (time.time(), film, backend, jobs))
        return int(cur.lastrowid or 0)

    def end_run(self, run_id: int, status: str, ran: int, cached: int, failed: int, skipped: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished = ?, status = ?, ran = ?, cached = ?, failed = ?, skipped = ?"
                       " WHERE run_id = ?", (time.time(), status, ran, cached, failed, skipped, run_id))

    def execution_started(self, run_id: int, node: PlanNode, attempt: int, started: float) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO executions (run_id, node_id, attempt, op, label, started, status)"
                       " VALUES (?, ?, ?, ?, ?, ?, 'running')", (run_id, node.id, attempt, node.op, node.label, started))

    def execution_finished(self, run_id: int, node_id: str, attempt: int, finished: float, status: str,
                           error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE executions SET finished = ?, status = ?, error = ? WHERE run_id = ? AND node_id = ?"
                       " AND attempt = ?", (finished, status, error, run_id, node_id, attempt))

    # ----- locking and cleaning ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait_s: float = 0.0) -> Iterator[None]:
        """Exclusive use of the cache for one build. The OS drops the lock when the holder
        dies, even by SIGKILL, so a killed build never blocks the next one."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no cross-process lock available
            yield
            return
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                        raise CacheBusy(f"another filmc build (pid {holder}) is using the cache {self.root}; "
                                        "wait for it to finish") from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            os.close(fd)  # closing releases the flock

    def stored_ids(self) -> set[str]:
        """Ids of every object folder on disk plus every node the index knows."""
        ids = {row[0] for row in self.db.execute("SELECT id FROM nodes")}
        for shard in self.objects.iterdir():
            if shard.is_dir():
                ids.update(e.name for e in shard.iterdir() if not e.name.startswith("."))
        return ids

    def clean(self, all: bool = False, unreferenced_by: RenderPlan | None = None) -> CleanReport:  # noqa: A002
        """Remove every object (`all=True`), or those no node of `unreferenced_by` uses.
        Build history (runs, executions) is kept."""
        if all == (unreferenced_by is not None):
            raise ValueError("clean needs exactly one of all=True or unreferenced_by=plan")
        keep = set() if all else {n.id for n in unreferenced_by.nodes}  # type: ignore[union-attr]
        removed = freed = 0
        with self.lock():
            self.remove_stale_temporaries()
            doomed = sorted(self.stored_ids() - keep)
            for node_id in doomed:
                directory = self.object_dir(node_id)
                if directory.is_dir():
                    freed += sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
                    self.discard(directory)
                    removed += 1
            with self.transaction() as db:
                db.executemany("DELETE FROM outputs WHERE node_id = ?", [(i,) for i in doomed])
                db.executemany("DELETE FROM nodes WHERE id = ?", [(i,) for i in doomed])
        return CleanReport(removed=removed, bytes_freed=freed)
