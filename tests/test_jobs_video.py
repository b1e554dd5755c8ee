"""Video jobs end to end on a tiny budget: train a clip teacher, distil from fake clips and a real video, the CLI.

The video policy is tested in test_augment_video.py (CutMix on clips in test_augment_cutmix.py), multi-clip
evaluation in test_evaluate.py, the video models in test_models_video.py; the sources, decoding and the
cifar10_clips set in test_sources_video.py, test_decode_video.py and test_datasets_video.py."""
import json
import subprocess
import sys

import keras
import pytest

from aip_keras import jobs, models
from aip_keras.config import DistillConfig, TeacherConfig

TINY_VIDEO = {"widths": [8, 16]}


@pytest.fixture(scope="module")
def tiny_video_teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("video-teacher") / "teacher"
    config = TeacherConfig(modality="video", data="cifar10_clips", arch="video_cnn", arch_kwargs=TINY_VIDEO,
                                epochs=1, batch_size=64, train_limit=512, frames=2, frame_stride=2, clip_size=16)
    result = jobs.train_teacher(config, out, verbose=0)
    assert result["modality"] == "video" and result["input_shape"] == [2, 16, 16, 3]
    assert result["num_test_examples"] == 10000
    return out


def test_distil_from_fake_clips_and_a_real_video(tiny_video_teacher, tmp_path, shared_data):
    for source in ("astronaut", str(shared_data / "videos" / "car-detection.mp4")):
        config = DistillConfig(modality="video", teacher=str(tiny_video_teacher), source=source,
                                    student_kwargs=TINY_VIDEO, epochs=1, patches_per_epoch=64, batch_size=32,
                                    val_limit=64, eval_limit=64)
        assert (config.student, config.eval, config.augment, config.temperature) == (
            "video_cnn", "cifar10_clips", "video", 5.0)
        out = tmp_path / pathlib_name(source)
        result = jobs.run_distillation(config, out, verbose=0)
        assert result["samples_seen"] == 64 and result["metrics"]["num_examples"] == 64
        assert result["student_input_shape"] == [2, 16, 16, 3] and result["eval_windows"] == [[0, 2], [1, 3]]
        assert result["source"]["kind"] == ("image" if source == "astronaut" else "video")
        student = keras.saving.load_model(out / "student.keras")
        assert student.input_shape == (None, 2, 16, 16, 3)


def pathlib_name(source):
    return source.rsplit("/", 1)[-1].replace(".", "_")


def test_cli_video_distill_and_evaluate(tiny_video_teacher, tmp_path):
    def aip(*args):
        return subprocess.run([sys.executable, "-m", "aip_keras.cli", *args], capture_output=True, text=True,
                              timeout=600)

    ran = aip("distill", "--modality=video", f"--teacher={tiny_video_teacher}", "--source=noise", "--epochs=1",
              "--patches_per_epoch=32", "--batch_size=32", "--val_limit=32", "--eval_limit=32",
              f"--student_kwargs={json.dumps(TINY_VIDEO)}", f"--output_dir={tmp_path / 'run'}")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "student accuracy:" in ran.stdout
    evaluated = aip("evaluate", "--modality=video", f"--student={tmp_path / 'run' / 'student.keras'}",
                    f"--teacher={tiny_video_teacher}", "--eval_limit=32")
    assert evaluated.returncode == 0 and "agreement" in evaluated.stdout, evaluated.stderr[-2000:]


def test_video_job_bad_inputs_are_one_line(tiny_video_teacher, tmp_path):
    image_teacher = tmp_path / "image.keras"
    models.build("tiny_cnn", (32, 32, 3), 10).save(image_teacher)
    base = {"modality": "video", "teacher": str(tiny_video_teacher), "source": "noise", "epochs": 1,
            "patches_per_epoch": 32, "batch_size": 32, "student_kwargs": TINY_VIDEO}
    for extra, fragment in (
        ({"teacher": str(image_teacher)}, "modality video needs a clip classifier"),
        ({"source": str(tmp_path / "nothing.mp4")}, "does not exist"),
        ({"eval": "cifar10"}, "unknown video dataset"),
    ):
        with pytest.raises(ValueError) as excinfo:
            jobs.run_distillation(DistillConfig(**{**base, **extra}), tmp_path / "bad", verbose=0)
        assert fragment in str(excinfo.value) and "\n" not in str(excinfo.value), (extra, str(excinfo.value))
        assert not (tmp_path / "bad" / "student.keras").exists()
    with pytest.raises(ValueError, match="takes video clips"):
        jobs.run_distillation(DistillConfig(teacher=str(tiny_video_teacher), eval="cifar10"), tmp_path / "b2",
                              verbose=0)
    with pytest.raises(ValueError, match="not for modality video"):
        DistillConfig(modality="video", augment="imagenet")
