"""The `aip` command end to end on real data and a tiny budget (the `tiny_teacher` fixture is in conftest.py)."""
import json

import keras
import pytest
from helpers import aip

from aip_keras.config import DistillConfig


def _distill_args(teacher, out, *extra):
    return ["distill", f"--teacher={teacher}", "--student=tiny_cnn", "--source=astronaut",
            "--epochs=2", "--patches_per_epoch=512", "--batch_size=64", "--val_limit=256",
            "--eval_limit=512", f"--output_dir={out}", *extra]


def test_distill_end_to_end(tiny_teacher, tmp_path):
    out = tmp_path / "run"
    result = aip(*_distill_args(tiny_teacher, out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "teacher accuracy:" in result.stdout and "student accuracy:" in result.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["samples_seen"] == 2 * (512 // 64) * 64
    assert run["metrics"]["num_examples"] == 512
    assert 0 <= run["student_accuracy"] <= 1 and run["teacher_accuracy"] > 0.5
    assert run["config"]["source"] == "astronaut"
    student = keras.saving.load_model(out / "student.keras", safe_mode=True)
    assert student.output_shape == (None, 10)
    assert (out / "history.csv").exists() and any((out / "logs").iterdir())
    assert not (out / "backup").exists()  # removed after a completed run

    again = aip(*_distill_args(tiny_teacher, out))
    assert again.returncode == 1 and "already holds a finished run" in again.stderr


def test_distill_reads_config_and_flags_override(tiny_teacher, tmp_path):
    config = DistillConfig(teacher=str(tiny_teacher), student="tiny_cnn", epochs=1,
                                patches_per_epoch=128, batch_size=64, val_limit=128,
                                eval_limit=256, temperature=4.0)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    out = tmp_path / "run"
    result = aip("distill", f"--config={path}", "--temperature=2.0", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["temperature"] == 2.0 and run["config"]["patches_per_epoch"] == 128


def test_evaluate_prints_side_by_side(tiny_teacher, tmp_path):
    result = aip("evaluate", f"--student={tiny_teacher}", f"--teacher={tiny_teacher}",
                 "--eval=fashion_mnist", "--eval_limit=300", f"--output={tmp_path / 'm.json'}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "teacher" in result.stdout and "student" in result.stdout and "top-5" in result.stdout
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["agreement"] == 1.0 and metrics["teacher_top1"] == metrics["student_top1"]


def test_patches_writes_png(tmp_path):
    out = tmp_path / "grid.png"
    result = aip("patches", "--source=chelsea", "--num=16", "--patch_size=32", f"--output={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["distill", "--teacher=/nonexistent/teacher.keras"], "does not exist"),
    (["distill", "--temperature=0"], "temperature must be a finite number > 0"),
    (["distill", "--source=/nonexistent/photo.png"], "photo.png"),
    (["frobnicate"], "unknown command"),
])
def test_bad_input_is_one_clear_line(args, message, tmp_path):
    result = aip(*args, f"--output_dir={tmp_path / 'x'}" if args[0] == "distill" else "--")
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "x" / "student.keras").exists()
