"""`filmc build --ray` and `filmc doctor` with and without Ray installed (its absence is simulated,
so these run whether or not the optional package is there)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from filmc.cli import main
from filmc.runtime import distributed
from filmc.runtime.build import BuildOptions, build

FILM = """\
film "Tiny" {
  resolution 64x36
  fps 24
  export web_mp4
}
location room "Room" { look "a bare room" }
scene one at room, day {
  shot wide 1s
}
"""


@pytest.fixture
def film(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.film"
    path.write_text(FILM, encoding="utf-8")
    return path


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "ray_version", lambda: None)


def test_ray_flag_without_ray_installed_says_how_to_install_it(film: Path, no_ray: None, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(film), "--cache", str(tmp_path / "cache"), "--ray"]) == 2
    err = capsys.readouterr().err
    assert "--ray needs Ray, which is not installed" in err and "pip install 'ray==2.60.0'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "cache").exists()  # refused before anything was built


def test_build_options_with_ray_but_no_ray_is_a_usage_error(film: Path, no_ray: None, tmp_path: Path) -> None:
    import io

    err = io.StringIO()
    outcome = build(BuildOptions(film=film, out=tmp_path / "out", cache=tmp_path / "cache", ray="local"),
                    io.StringIO(), err)
    assert outcome.code == 2 and "pip install 'ray==2.60.0'" in err.getvalue()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["local", "auto", "10.0.0.5:6379", "head.example:6379", "[::1]:6379"])
def test_ray_addresses_accepted(address: str) -> None:
    assert distributed.check_address(address) == address


def test_ray_client_address_is_refused_with_the_reason() -> None:
    with pytest.raises(distributed.DistributedError, match="Ray Client address, which filmc does not use"):
        distributed.check_address("ray://head.example:10001")


@pytest.mark.parametrize("address", ["10.0.0.5", "http://head:8265", "two words:1", ""])
def test_bad_ray_address_is_refused(address: str) -> None:
    with pytest.raises(distributed.DistributedError, match="is not a Ray address"):
        distributed.check_address(address)


def test_ray_flag_swallowing_the_film_is_explained(film: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["build", "--ray", str(film)])
    assert exit_.value.code == 2
    assert "is a film, not a Ray address: put the film before --ray" in capsys.readouterr().err


def test_doctor_reports_ray(capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    installed = importlib.util.find_spec("ray") is not None
    assert report["ray"] == (importlib.metadata.version("ray") if installed else None)
    main(["doctor"])
    text = capsys.readouterr().out
    assert (f"Ray {report['ray']} (filmc build --ray)" in text) if installed else ("Ray not installed" in text)


def test_doctor_without_ray_says_it_is_optional(no_ray: None, capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor"])
    assert "Ray not installed (optional, for filmc build --ray: pip install 'ray==2.60.0')" in capsys.readouterr().out


def test_importing_distributed_does_not_import_ray() -> None:
    import subprocess

    code = "import sys, filmc.runtime.distributed, filmc.runtime.build; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
