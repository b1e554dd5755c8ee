"""The scripts in examples/ run at their smallest size, from a folder outside the repository.

Each runs in a subprocess as a user would (`python examples/<name>.py --output_dir=... <tiny flags>`)
from an empty working directory, so no example can lean on repo-relative paths; each test checks
the return code, the files the example says it writes and the accuracy line it prints. The first
example runs in the default suite; the others are slow-marked. A static check (no TensorFlow)
keeps every example in the keras-io shape and on the public API.
"""

import ast
import os
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))


def run_example(name, tmp_path, *flags, timeout=900):
    """Runs examples/<name> from an empty folder; returns (stdout, output_dir)."""
    out = tmp_path / "out"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), f"--output_dir={out}", *flags],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert not any(cwd.iterdir()), f"{name} wrote into the working directory: {sorted(cwd.iterdir())}"
    return result.stdout, out


def accuracy(stdout, who="student"):
    """The last `<who> accuracy: X` printed."""
    values = re.findall(rf"{who} accuracy: ([0-9.]+)", stdout)
    assert values, f"no '{who} accuracy:' line in:\n{stdout[-3000:]}"
    value = float(values[-1])
    assert 0.0 <= value <= 1.0
    return value


# --------------------------------------------------------------------------- static (fast)


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_has_the_keras_io_shape_and_uses_the_public_api(name):
    text = (EXAMPLES / name).read_text()
    header = ast.get_docstring(ast.parse(text))
    for field in ("Title:", "Author: aip_keras developers", "Date created:", "Description:"):
        assert field in header, f"{name}: header lacks {field!r}"
    assert len(re.findall(r"^## \w", text, re.M)) >= 3, f"{name}: too few '## ' sections"
    assert "--output_dir" in text
    private = re.findall(r"aip_keras(?:\.\w+)*\._\w+|from aip_keras[\w.]* import [^\n]*\b_\w+", text)
    assert not private, f"{name} uses private names: {private}"
    assert "sys.path" not in text and "__file__" not in text, f"{name} must not rely on its own location"


def test_examples_readme_lists_every_example():
    readme = (EXAMPLES / "README.md").read_text()
    assert len(SCRIPTS) == 8
    for name in SCRIPTS:
        assert f"{name}" in readme, f"examples/README.md does not list {name}"


# --------------------------------------------------------------------------- runs


def test_distill_from_one_image(tmp_path):
    stdout, out = run_example("distill_from_one_image.py", tmp_path, "--steps", "20", "--epochs", "1",
                              "--eval_limit", "500")
    assert (out / "student.keras").is_file()
    assert accuracy(stdout, "teacher") > 0.85
    assert accuracy(stdout) > 0.1  # chance is 0.1; 20 steps give about 0.2
    assert "(500 test images, fashion_mnist)" in stdout


@pytest.mark.slow
def test_your_own_teacher(tmp_path):
    stdout, out = run_example("your_own_teacher.py", tmp_path, "--teacher_steps", "30", "--steps", "20",
                              "--eval_limit", "500")
    for path in ("coffee.png", "my_teacher.keras", "my_mobilenet.weights.h5", "my_mobilenet.keras", "student.keras"):
        assert (out / path).is_file(), path
    kinds = dict(re.findall(r"teacher (\w+) +accuracy ([0-9.]+)", stdout))
    assert float(kinds["keras_file"]) > 0.3 and float(kinds["applications"]) > 0.1
    try:
        import keras_hub  # noqa: F401
    except ImportError:
        assert "skipping the kerashub: teacher" in stdout
    else:
        assert (out / "my_kerashub_preset" / "config.json").is_file() and float(kinds["kerashub"]) > 0.1
    accuracy(stdout)


@pytest.mark.slow
def test_distill_audio(tmp_path, shared_data):
    stdout, out = run_example("distill_audio.py", tmp_path, "--epochs", "1", "--patches_per_epoch", "320",
                              "--eval_limit", "100")
    assert (out / "student.keras").is_file() and (out / "run.json").is_file()
    assert accuracy(stdout, "teacher") > 0.9
    accuracy(stdout)


@pytest.mark.slow
def test_distill_video(tmp_path, shared_data):
    stdout, out = run_example("distill_video.py", tmp_path, "--patches_per_epoch", "256", "--eval_limit", "200")
    assert (out / "student.keras").is_file() and (out / "run.json").is_file()
    assert accuracy(stdout, "teacher") > 0.3
    accuracy(stdout)


@pytest.mark.slow
def test_tune_then_distill(tmp_path, shared_data):
    stdout, out = run_example("tune_then_distill.py", tmp_path, "--max_trials", "1", "--trial_patches_per_epoch",
                              "256", "--patches_per_epoch", "256", "--eval_limit", "500")
    for path in ("tune/best_config.json", "tune/trials.csv", "tune/tune.json", "distill/student.keras"):
        assert (out / path).is_file(), path
    assert "trial 0: COMPLETED" in stdout
    assert accuracy(stdout, "teacher") > 0.7
    accuracy(stdout)


@pytest.mark.slow
def test_load_from_zoo(tmp_path):
    stdout, _ = run_example("load_from_zoo.py", tmp_path, "--eval_limit", "1000")
    assert "fashion_mnist-teacher-small_cnn" in stdout
    assert "aip_keras imported: False" in stdout  # the hf:// load ran in plain Keras
    assert accuracy(stdout) > 0.5


@pytest.mark.slow
def test_publish_dry_run(tmp_path):
    stdout, out = run_example("publish_dry_run.py", tmp_path, "--patches_per_epoch", "256", "--eval_limit", "300")
    upload = out / "upload"
    for path in ("README.md", "config.json", "metadata.json", "model.weights.h5", "run.json",
                 ".eval_results/fashion_mnist.yaml"):
        assert (upload / path).is_file(), path
        assert path in stdout
    assert (out / "my_zoo" / "index.json").is_file()
    assert (out / "upload-model" / "model.weights.h5").is_file()
    accuracy(stdout)


@pytest.mark.slow
def test_aip_vs_keras_distillation(tmp_path):
    stdout, out = run_example("aip_vs_keras_distillation.py", tmp_path, "--steps", "20", "--eval_limit", "500")
    assert (out / "aip_student.keras").is_file() and (out / "keras_student.keras").is_file()
    aip = float(re.search(r"no labels\) student accuracy: ([0-9.]+)", stdout).group(1))
    labelled = float(re.search(r"real images \+ labels\) student accuracy: ([0-9.]+)", stdout).group(1))
    assert 0.0 <= aip <= 1.0 and labelled > 0.3
