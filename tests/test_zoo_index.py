"""aip_keras.zoo.index: where entries live (writable vs bundled), the merged index, names and repo ids."""
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
from zoo_fixtures import (  # noqa: F401
    REPO,
    STUDENT,
    TEACHER,
    hub_mock,
    made,
    make_run_dir,
    teacher_run,
    tiny_model,
)

from aip_keras import atomic, utils, zoo
from aip_keras.zoo import index


def test_the_source_checkout_writes_to_its_own_zoo(monkeypatch):
    monkeypatch.delenv("AIP_ZOO_DIR", raising=False)
    assert index.in_source_checkout() and index.PACKAGE_ROOT == REPO / "aip_keras"
    assert zoo.zoo_dir() == REPO / "zoo" and index.roots() == [REPO / "zoo"]
    assert set(zoo.read_index()["entries"]) == set(index.read_folder_index(REPO / "zoo")["entries"])


def test_resolve_names_and_repo_ids(made):  # noqa: F811
    root = made["root"]
    assert index.resolve(TEACHER, root)[:2] == (TEACHER, f"aip-keras/{TEACHER}")
    assert index.resolve(f"zoo:{TEACHER}", root)[0] == TEACHER
    assert index.resolve(f"hf://aip-keras/{STUDENT}", root)[0] == STUDENT
    assert index.resolve("someone/else", root) == (None, "someone/else", None)
    with pytest.raises(ValueError, match="no zoo model named"):
        index.resolve("zoo:", root)
    with pytest.raises(ValueError, match="neither a zoo entry nor a Hub repo id"):
        index.resolve("a/b/c", root)
    (root.parent / "broken").mkdir(exist_ok=True)
    (root.parent / "broken" / "index.json").write_text("{")
    with pytest.raises(ValueError, match="is not valid JSON"):
        zoo.read_index(root.parent / "broken")


def _snapshot(folder):
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def _set_writable(folder, writable):
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture
def installed(made, tmp_path, monkeypatch):  # noqa: F811
    """aip_keras as pip installs it: in site-packages, with the tiny entries bundled read-only in data/zoo."""
    package = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "aip_keras"
    bundled = package / "data" / "zoo"
    shutil.copytree(made["root"], bundled)
    stray = package.parent / "zoo"  # a zoo/index.json beside the package, but in site-packages: not a checkout
    stray.mkdir()
    (stray / "index.json").write_text('{"format": 1, "entries": {}}')
    monkeypatch.setattr(index, "PACKAGE_ROOT", package)
    monkeypatch.setattr(index, "BUNDLED_ZOO", bundled)
    monkeypatch.setattr(index, "CHECKOUT_ZOO", stray)
    monkeypatch.delenv("AIP_ZOO_DIR", raising=False)
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "cache"))
    before = _snapshot(bundled)
    _set_writable(bundled, False)
    yield bundled
    _set_writable(bundled, True)
    assert _snapshot(bundled) == before  # nothing in the installed package changed


def test_an_installed_package_writes_to_the_cache_and_reads_the_bundled_entries(installed, tmp_path, hub_mock):  # noqa: F811
    cache_zoo = tmp_path / "cache" / "zoo"
    assert not index.in_source_checkout()
    assert zoo.zoo_dir() == cache_zoo == utils.cache_dir() / "zoo" and zoo.bundled_dir() == installed
    assert index.roots() == [cache_zoo, installed]
    assert [e["name"] for e in zoo.list()] == sorted([STUDENT, TEACHER]) and all(e["local"] for e in zoo.list())
    loaded = zoo.load(TEACHER)
    assert loaded.source == "local" and loaded.folder == installed / TEACHER

    # a new teacher and a student distilled from the bundled teacher: written to the cache zoo only
    folder = cache_zoo / "new-teacher-tiny_cnn"
    atomic.save_model(tiny_model(), folder)
    atomic.write_json(folder / "run.json", teacher_run())
    zoo.write_entry(folder, kind="teacher")
    run_dir = make_run_dir(tmp_path / "run", f"zoo:{TEACHER}")
    student = zoo.write_entry(cache_zoo / "new-tiny_cnn-from-astronaut", from_run=run_dir)
    assert student["base_model"] == f"aip-keras/{TEACHER}"  # found in the bundled index
    own = json.loads((cache_zoo / "index.json").read_text())["entries"]
    assert sorted(own) == ["new-teacher-tiny_cnn", "new-tiny_cnn-from-astronaut"]
    assert "new-teacher-tiny_cnn" in (cache_zoo / "README.md").read_text()
    assert [e["name"] for e in zoo.list()] == sorted([STUDENT, TEACHER, "new-teacher-tiny_cnn",
                                                      "new-tiny_cnn-from-astronaut"])
    assert zoo.load("new-tiny_cnn-from-astronaut").folder == cache_zoo / "new-tiny_cnn-from-astronaut"
    with pytest.raises(ValueError, match="not inside the zoo folder"):  # the bundled folder is not writable
        zoo.write_entry(installed / TEACHER)

    # pushing a bundled entry pins its revision in the writable index; its files stay where they are
    zoo.publish(TEACHER)
    pinned = json.loads((cache_zoo / "index.json").read_text())["entries"][TEACHER]
    assert pinned["revision"] == "a" * 40 and pinned["published"] is True
    assert zoo.info(TEACHER)["published"] is True  # the writable entry wins
    assert zoo.load(TEACHER).folder == installed / TEACHER


def test_aip_zoo_dir_is_the_writable_zoo(installed, tmp_path, monkeypatch):
    mine = tmp_path / "my-zoo"
    monkeypatch.setenv("AIP_ZOO_DIR", str(mine))
    assert zoo.zoo_dir() == mine and index.roots() == [mine, installed]
    folder = mine / "mine-teacher-tiny_cnn"
    atomic.save_model(tiny_model(), folder)
    atomic.write_json(folder / "run.json", teacher_run())
    zoo.write_entry(folder, kind="teacher")
    assert sorted(index.read_folder_index(mine)["entries"]) == ["mine-teacher-tiny_cnn"]
    assert {e["name"] for e in zoo.list()} == {STUDENT, TEACHER, "mine-teacher-tiny_cnn"}
    assert not (tmp_path / "cache" / "zoo" / "index.json").exists()


def test_a_checkout_with_aip_zoo_dir_still_reads_the_checkouts_zoo(monkeypatch, tmp_path):
    monkeypatch.setenv("AIP_ZOO_DIR", str(tmp_path))
    assert index.roots() == [tmp_path, REPO / "zoo"]
    assert zoo.info("fashion_mnist-teacher-small_cnn")["folder"] == "fashion_mnist-teacher-small_cnn"


def test_an_installed_wheel_carries_the_index_and_default_teachers(tmp_path):
    """setup.py's build_py copies zoo/index.json and the default teachers into the package (pip users)."""
    built = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert built.returncode == 0, built.stderr[-2000:]
    packaged = tmp_path / "aip_keras" / "data" / "zoo"
    assert {e["name"] for e in zoo.list(zoo=packaged)} == set(zoo.read_index()["entries"])
    model, spec = zoo.load("fashion_mnist-teacher-small_cnn", zoo=packaged)  # sha256-checked local copy
    assert model.output_shape == (None, 10) and spec.channels == 1
    assert zoo.load("fsdd-teacher-audio_cnn", zoo=packaged).sample_rate == 16000
