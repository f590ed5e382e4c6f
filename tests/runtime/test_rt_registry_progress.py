"""Backend discovery (built-ins and entry points) and the three progress renderers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from filmc.runtime.progress import (
    JsonLinesRenderer,
    PlainRenderer,
    RichRenderer,
    make_renderer,
)
from filmc.runtime.registry import (
    BackendNotFound,
    get_backend,
    list_backends,
    register_backend,
    unregister_backend,
)
from rt_toy_backend import ToyBackend, make_plan


@pytest.fixture
def toy_registered():
    register_backend("toy", ToyBackend)
    yield
    unregister_backend("toy")


def install_plugin(site: Path, dist: str, entry_points: str) -> None:
    """A dist-info folder as pip writes it: what importlib.metadata reads to find entry points."""
    info = site / f"{dist}-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(f"[filmc.backends]\n{entry_points}\n")


def test_builtins_are_found_by_name(toy_registered) -> None:
    backend = get_backend("toy")
    assert isinstance(backend, ToyBackend) and backend.version == "toy-1"
    info = {i.name: i for i in list_backends()}["toy"]
    assert (info.origin, info.version, info.available) == ("built-in", "toy-1", True)
    with pytest.raises(ValueError, match="already registered"):
        register_backend("toy", ToyBackend)
    with pytest.raises(BackendNotFound, match="unknown backend 'nope'.*toy"):
        get_backend("nope")


def test_plugins_are_discovered_through_entry_points(tmp_path: Path, monkeypatch) -> None:
    install_plugin(tmp_path, "filmc_toyplug", "toyplug = rt_toy_backend:ToyBackend\n"
                                              "brokenplug = no_such_module_for_filmc:Thing")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert isinstance(get_backend("toyplug"), ToyBackend)
    infos = {i.name: i for i in list_backends()}
    assert infos["toyplug"].origin == "entry point from filmc_toyplug 1.2" and infos["toyplug"].version == "toy-1"
    assert not infos["brokenplug"].available and "No module named" in (infos["brokenplug"].error or "")
    with pytest.raises(BackendNotFound, match="brokenplug.*failed to load"):
        get_backend("brokenplug")


FAILING = [("ok", "plate", {"x": 1}, [], 100), ("s02_004", "compose", {"fail": "missing keyframe"}, ["ok"], 100),
           ("after", "encode", {}, ["s02_004"], 100)]


def test_json_lines_carry_every_event_for_machines(tmp_path: Path) -> None:
    out = io.StringIO()
    result = execute(make_plan(FAILING), ToyBackend(), Cache(tmp_path / "c"), processes=False,
                     events=JsonLinesRenderer(out))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    kinds = [e["event"] for e in lines]
    assert kinds[0] == "build_started" and kinds[-1] == "build_finished"
    assert kinds.count("node_started") == 2 and kinds.count("node_finished") == 1
    (failed,) = [e for e in lines if e["event"] == "node_failed"]
    assert failed["node"]["label"] == "s02_004" and failed["node"]["spans"] == ["/films/toy.film:2:3"]
    assert "fatal: missing keyframe" in failed["error"] and failed["retry_in_s"] is None
    assert lines[-1] == {"event": "build_finished", "ran": 1, "cached": 0, "failed": 1, "skipped": 1,
                         "wall_s": pytest.approx(result.wall_s), "ok": False}
    assert lines[0]["ops"] == {"plate": {"total": 1, "cached": 0}, "compose": {"total": 1, "cached": 0},
                               "encode": {"total": 1, "cached": 0}}


def test_plain_lines_name_the_failure_and_sum_up(tmp_path: Path) -> None:
    out = io.StringIO()
    execute(make_plan(FAILING), ToyBackend(), Cache(tmp_path / "c"), processes=False, events=PlainRenderer(out))
    text = out.getvalue()
    assert "FAILED compose s02_004 (/films/toy.film:2:3), attempt 1" in text
    assert "    fatal: missing keyframe" in text
    assert "skipped encode after: input compose s02_004 failed" in text
    assert text.rstrip().splitlines()[-1].startswith("build FAILED: 1 ran, 0 cached, 1 failed, 1 skipped")


def test_rich_bars_render_and_finish_with_a_summary(tmp_path: Path) -> None:
    out = io.StringIO()
    renderer = RichRenderer(out)
    plan = make_plan(FAILING[:1] + [("two", "plate", {"x": 2}, [], 100)])
    execute(plan, ToyBackend(), Cache(tmp_path / "c"), processes=False, events=renderer)
    text = out.getvalue()
    assert "plate" in text and "2/2" in text
    assert "build finished: 2 ran, 0 cached, 0 failed, 0 skipped" in text


def test_renderer_choice_follows_the_stream() -> None:
    assert isinstance(make_renderer(json_lines=True, stream=io.StringIO()), JsonLinesRenderer)
    assert isinstance(make_renderer(stream=io.StringIO()), PlainRenderer)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(make_renderer(stream=Tty()), RichRenderer)
