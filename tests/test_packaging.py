"""Packaging: `python -m build` (the sdist, then a wheel built from the unpacked sdist), what the two carry,
and the wheel installed into a fresh virtual environment and run from an empty folder.

Offline and fast: the build runs without isolation (setuptools and build come from the `[test]` extra) and the
wheel is installed with `--no-deps --no-index` into a venv that sees this environment's site-packages for the
dependencies. About 15-30 s on 2 CPU cores, most of it `aip distill --help` importing TensorFlow.
"""
import ast
import configparser
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DISTILL_FLAGS = ("--temperature", "--teacher", "--source", "--student", "--epochs")


def packaged_zoo():
    """setup.py's PACKAGED_ZOO (read, not run)."""
    for node in ast.parse((REPO / "setup.py").read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PACKAGED_ZOO"]:
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no PACKAGED_ZOO")


def checkout_files(name):
    """The files of zoo/<name> in this checkout, relative to zoo/ (a folder entry or index.json)."""
    path = REPO / "zoo" / name
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return {p.relative_to(REPO / "zoo").as_posix() for p in files}


def clean_env():
    """The environment without anything that would point Python or aip_keras back at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "AIP_ZOO_DIR")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_ROOT_USER_ACTION="ignore",
               TF_CPP_MIN_LOG_LEVEL="2")
    return env


def run(args, cwd, timeout=600):
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
                            timeout=timeout)
    command = " ".join(str(a) for a in args)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def checkout_copy(dest):
    """A copy of what a fresh clone holds (plus untracked, not ignored files): no build/, dist/ or *.egg-info, and
    the build writes its egg-info there, not here. This checkout itself where git cannot list it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, timeout=60)
    if listed.returncode != 0:
        return REPO
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (REPO / name).is_file():  # --cached also lists files deleted from the work tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """`python -m build` with neither --sdist nor --wheel: the sdist, then the wheel from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    source = checkout_copy(tmp_path_factory.mktemp("checkout"))
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out], cwd=source)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return sdists[0], wheels[0]


def test_the_sdist_carries_what_the_wheel_build_needs_and_no_tests(dist):
    sdist, _ = dist
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for required in ("pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in", "aip_keras/__init__.py",
                     "aip_keras/front_end.py", "aip_keras/data/fashion_mnist/t10k-images-idx3-ubyte.gz"):
        assert required in names, f"{required} is not in {sdist.name}"
    for entry in packaged_zoo():
        missing = {f"zoo/{f}" for f in checkout_files(entry)} - names
        assert not missing, f"{sdist.name} lacks {sorted(missing)}"
    assert top == sdist.name[:-len(".tar.gz")]
    assert not [n for n in names if n.split("/")[0] in ("tests", "benchmarks", "docs")]


def test_the_wheel_carries_the_package_data_zoo_and_entry_point_only(dist):
    _, wheel = dist
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{info}/entry_points.txt").decode())
        metadata = archive.read(f"{info}/METADATA").decode()
    assert entry_points["console_scripts"]["aip"].strip() == "aip_keras.cli:run"
    assert {n.split("/")[0] for n in names} == {"aip_keras", info}, "the wheel installs more than aip_keras"
    for required in ("aip_keras/__init__.py", "aip_keras/cli.py", "aip_keras/front_end.py",
                     "aip_keras/data/zoo/index.json", "aip_keras/data/fashion_mnist/t10k-images-idx3-ubyte.gz",
                     "aip_keras/data/fashion_mnist/t10k-labels-idx1-ubyte.gz", f"{info}/licenses/LICENSE"):
        assert required in names, f"{required} is not in {wheel.name}"
    for entry in packaged_zoo():
        missing = {f"aip_keras/data/zoo/{f}" for f in checkout_files(entry)} - names
        assert not missing, f"{wheel.name} lacks {sorted(missing)}"
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/", "zoo/"))]
    fields = [line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line]
    requires = [value for key, value in fields if key == "Requires-Dist"]
    assert ("License-Expression", "Apache-2.0") in [tuple(f) for f in fields]
    assert ("Requires-Python", ">=3.10") in [tuple(f) for f in fields]
    assert {"video", "test"} <= {value for key, value in fields if key == "Provides-Extra"}
    core = {r.split(";")[0].split("<")[0].split(">")[0].split("=")[0].strip() for r in requires if ";" not in r}
    assert {"tensorflow", "keras", "tensorflow-io", "soundfile", "scikit-image"} <= core  # the offline defaults
    assert not core & {"imageio", "imageio-ffmpeg", "pytest", "build"}, "extras leaked into the core requirements"


@pytest.mark.timeout(900)
def test_the_wheel_installed_in_a_fresh_venv_runs_from_an_empty_folder(dist, tmp_path):
    _, wheel = dist
    venv, empty = tmp_path / "venv", tmp_path / "empty"
    empty.mkdir()
    # The venv sees this environment's site-packages for the dependencies (and pip): no network.
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=empty)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall", wheel], cwd=empty)
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=empty).stdout.strip()
    assert pathlib.Path(site).is_relative_to(venv), site

    # The venv's own copy wins over this checkout's editable install (its finder comes after sys.path).
    probe = ("import importlib.resources, aip_keras; print(aip_keras.__file__); print(aip_keras.__version__); "
             "print(importlib.resources.files('aip_keras').joinpath('data/zoo/index.json').is_file())")
    module, version, bundled = run([python, "-c", probe], cwd=empty).stdout.split()
    assert pathlib.Path(module) == pathlib.Path(site) / "aip_keras" / "__init__.py", module
    assert bundled == "True", "the installed package has no data/zoo/index.json"
    assert wheel.name.startswith(f"aip_keras-{version}-")

    script = venv / "bin" / "aip"
    assert script.is_file() and str(python) in script.read_text()[:1000], "the script is not the venv's"
    result = subprocess.run([script, "distill", "--help"], cwd=empty, env=clean_env(), capture_output=True,
                            text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    missing = [flag for flag in DISTILL_FLAGS if flag not in output]
    assert not missing, f"`aip distill --help` does not list {missing}:\n{output[-3000:]}"
    assert not list(empty.iterdir()), "`aip distill --help` wrote into the working folder"
