"""Video end to end: the video policy, multi-clip evaluation, video models, and distillation on a tiny budget.

The sources, decoding and the cifar10_clips set are tested in test_sources_video.py, test_decode_video.py
and test_datasets_video.py."""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from aip_keras import augment, jobs, models
from aip_keras.evaluate import MultiClip, compare
from aip_keras.sources import video
from aip_keras.config import DistillConfig, TeacherConfig

TINY_VIDEO = {"widths": [8, 16]}


def test_cutmix_box_is_identical_across_frames():
    clips = np.random.default_rng(1).random((4, 6, 16, 16, 3)).astype("float32")
    layer = augment.CutMix(alpha=1.0, pair="reverse", seed=0)
    mask = layer.box_mask(clips).numpy()
    assert mask.shape == (1, 1, 16, 16, 1)  # one H x W box, broadcast over batch and time
    out = layer(clips).numpy()
    changed = np.any(out != clips, axis=-1)  # (B, T, H, W)
    for t in range(6):
        np.testing.assert_array_equal(changed[:, t], changed[:, 0])


def test_multi_clip_evaluation_averages_softmax():
    inputs = keras.Input((2, 3, 3, 1))
    model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(inputs)))
    videos = np.random.default_rng(2).random((5, 6, 3, 3, 1)).astype("float32")
    windows = video.temporal_windows(6, 2, stride=2, clips=2)  # [[0, 2], [3, 5]]
    def softmax(z):
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    expected = np.mean([softmax(model(videos[:, w]).numpy()) for w in windows], axis=0)
    np.testing.assert_allclose(np.exp(MultiClip(model, windows)(videos)), expected, rtol=1e-5, atol=1e-7)
    labels = expected.argmax(-1)
    data = tf.data.Dataset.from_tensor_slices((videos, labels)).batch(2)
    assert compare(model, data, teacher=model, windows=windows)["student_top1"] == 1.0


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


def test_video_models_build_train_save_and_load(tmp_path):
    clips = np.random.default_rng(0).random((2, 4, 16, 16, 3)).astype("float32")
    small = models.build("video_cnn", (4, 16, 16, 3), 10, widths=(8, 16))
    assert small(clips).shape == (2, 10) and 100_000 < models.build("video_cnn", (4, 32, 32, 3), 10).count_params() \
        < 250_000
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(small(clips, training=True) ** 2)
    grads = tape.gradient(loss, small.trainable_variables)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    small.save(tmp_path / "v.keras")
    loaded = keras.saving.load_model(tmp_path / "v.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(clips).numpy(), small(clips).numpy(), atol=1e-5)
    tiny = {"base_width": 8, "stages": (1, 2), "head_width": 32}
    base = models.build("x3d", (4, 16, 16, 3), 10, **tiny)
    wide = models.build("x3d", (4, 16, 16, 3), 10, width_factor=2.0, **tiny)
    deep = models.build("x3d", (4, 16, 16, 3), 10, depth_factor=2.0, **tiny)
    assert base(clips).shape == (2, 10) and wide.count_params() > 2 * base.count_params()
    blocks = lambda m: sum(layer.name.endswith("_add") for layer in m.layers)  # noqa: E731
    assert (blocks(base), blocks(deep)) == (3, 6)
    with pytest.raises(ValueError) as excinfo:
        models.build("video_cnn", (32, 32, 3), 10)
    assert "input_shape must be (frames, height, width, channels)" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_videoswin_classifier_from_config():
    from aip_keras.models.video import videoswin_classifier

    model = videoswin_classifier(10, input_shape=(4, 32, 32, 3), embed_dim=16, depths=(1, 1), num_heads=(1, 1),
                                 window_size=(2, 4, 4), patch_size=(2, 4, 4))
    assert model(np.zeros((1, 4, 32, 32, 3), "float32")).shape == (1, 10)
    with pytest.raises(ValueError, match="cannot build keras-cv preset nope"):
        videoswin_classifier(preset="nope")
