"""Video: fake clips of one image, windows of one real video, the video policy, CIFAR-10 clips, multi-clip
evaluation, and distillation end to end on a tiny budget."""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from aip_keras import augment, datasets, jobs, models
from aip_keras.evaluate import MultiClip, compare
from aip_keras.sources import video

TINY_VIDEO = {"widths": [8, 16]}


def _frames(n=20, height=40, width=60, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, height, width, 3), dtype=np.uint8)


def test_fake_clip_shapes_ranges_and_determinism():
    chain = video.ClipChain(clip_size=16, frames=6)
    image = video.load_image("astronaut")
    clip = chain(image, seed=3).numpy()
    assert clip.shape == (6, 16, 16, 3) and clip.dtype == np.float32 and 0.0 <= clip.min() <= clip.max() <= 1.0
    np.testing.assert_array_equal(clip, chain(image, seed=3).numpy())
    assert not np.array_equal(clip, chain(image, seed=4).numpy())
    grey = video.ClipChain(clip_size=16, frames=2, channels=1)(image, seed=0)
    assert grey.shape == (2, 16, 16, 1)


def test_interpolation_starts_at_box_one_and_ends_at_box_two():
    chain = video.ClipChain(clip_size=16, frames=5, jitter_p=0.0)
    image = video.load_image("astronaut")
    boxes, _ = chain.sample_boxes(tf.shape(image)[:2], video._seed_tensor(7))
    per_frame = chain.frame_boxes(boxes).numpy()
    np.testing.assert_allclose(per_frame[0], boxes[0].numpy())
    np.testing.assert_allclose(per_frame[-1], boxes[1].numpy())
    np.testing.assert_allclose(per_frame[2], boxes.numpy().mean(axis=0), atol=1e-6)  # linear
    clip = chain(image, seed=7).numpy()
    image01 = tf.cast(image, tf.float32)[None] / 255.0
    for frame, box in ((0, boxes[0]), (4, boxes[1])):
        expected = tf.image.crop_and_resize(image01, box[None], [0], [16, 16]).numpy()[0]
        np.testing.assert_allclose(clip[frame], np.clip(expected, 0, 1), atol=1e-5)


def test_jitter_is_drawn_once_per_clip():
    image = np.full((64, 64, 3), 128, np.uint8)  # flat grey: every frame identical unless jitter differs
    chain = video.ClipChain(clip_size=8, frames=4, jitter_p=1.0, hue=0.0)
    for seed in range(3):
        clip = chain(image, seed=seed).numpy()
        np.testing.assert_allclose(clip, np.broadcast_to(clip[:1], clip.shape), atol=1e-6)


def test_sources_eagerly_and_in_tf_data():
    image_source = video.SingleImageClipSource("astronaut", clip_size=16, frames=4)
    batch = next(iter(image_source.dataset(3, seed=0))).numpy()
    assert batch.shape == (3, 4, 16, 16, 3)
    np.testing.assert_array_equal(batch, next(iter(image_source.dataset(3, seed=0))).numpy())
    source = video.SingleVideoSource(_frames(), clip_size=16, frames=4, stride=2)
    clips = next(iter(source.dataset(2, seed=1))).numpy()
    assert clips.shape == (2, 4, 16, 16, 3) and 0.0 <= clips.min() and clips.max() <= 1.0
    mapped = tf.data.Dataset.range(2).map(lambda i: video.ClipChain(clip_size=8, frames=3)(
        tf.constant(_frames(3, 20, 20)), i))
    assert next(iter(mapped)).shape == (3, 8, 8, 3)
    assert source.get_config()["num_frames"] == 20 and image_source.get_config()["image"] == "astronaut"


def test_real_video_file(shared_data):
    frames = video.load_video(shared_data / "videos" / "car-detection.mp4", max_side=64, max_frames=30)
    assert frames.shape == (30, 64, 114, 3) and frames.dtype == np.uint8


def test_video_bad_inputs_are_one_line(tmp_path):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    for call, fragment in (
        (lambda: video.load_video(not_video), "cannot decode video"),
        (lambda: video.load_video(tmp_path / "missing.mp4"), "does not exist"),
        (lambda: video.SingleVideoSource(_frames(n=5), frames=8, stride=1), "shorter than one clip"),
        (lambda: video.SingleVideoSource(np.zeros((10, 0, 5, 3), np.uint8), frames=4), "zero-size frames"),
        (lambda: video.temporal_windows(6, 4, stride=2), "shorter than one clip"),
    ):
        with pytest.raises(ValueError) as excinfo:
            call()
        assert fragment in str(excinfo.value) and "\n" not in str(excinfo.value), str(excinfo.value)


def test_temporal_windows_are_uniform():
    assert video.temporal_windows(10, 4, stride=1, clips=3).tolist() == [[0, 1, 2, 3], [3, 4, 5, 6],
                                                                          [6, 7, 8, 9]]


def test_video_policy_ops_eagerly_and_in_tf_data():
    clips = np.random.default_rng(0).random((4, 8, 16, 16, 3)).astype("float32")
    for layer in (augment.ClipScaleCrop(seed=0), augment.TemporalSample(4, 2, seed=0),
                  augment.build_video_policy(seed=0)):
        eager = layer(clips)
        mapped = next(iter(tf.data.Dataset.from_tensors(clips).map(lambda c, layer=layer: layer(c))))
        assert eager.shape == mapped.shape and eager.shape[0] == 4
        assert 0.0 <= float(tf.reduce_min(mapped)) and float(tf.reduce_max(mapped)) <= 1.0
    # Same zoom, crop and flip on every frame: a clip of identical frames stays identical.
    same = np.repeat(clips[:, :1], 8, axis=1)
    out = augment.ClipScaleCrop(seed=1)(same).numpy()
    np.testing.assert_allclose(out, np.repeat(out[:, :1], 8, axis=1), atol=1e-6)
    window = augment.TemporalSample(4, 2, seed=0)
    index = np.arange(8, dtype="float32")[None, :, None, None, None] * np.ones((3, 8, 2, 2, 1), "float32")
    picked = window(index).numpy()[:, :, 0, 0, 0]
    assert all(list(np.diff(row)) == [2, 2, 2] and row[0] in (0, 1) for row in picked)
    assert window(index, training=False).numpy()[0, :, 0, 0, 0].tolist() == [0, 2, 4, 6]


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


def test_cifar10_clips_set():
    clips = datasets.load_video_set("cifar10_clips", split="test", frames=4, clip_size=16)
    assert (clips.num_examples, clips.num_classes, clips.image_shape) == (10000, 10, (4, 16, 16, 3))
    x1, y1 = next(iter(clips.dataset(8, limit=8, seed=3)))
    x2, y2 = next(iter(clips.dataset(8, limit=8, seed=3)))
    np.testing.assert_array_equal(x1.numpy(), x2.numpy())  # a fixed camera move per image
    assert not np.allclose(x1[:, 0], x1[:, -1])  # the camera moves
    assert datasets.load("cifar10_clips").image_shape == (8, 32, 32, 3)
    with pytest.raises(ValueError, match="unknown video dataset"):
        datasets.load_video_set("kinetics")


@pytest.fixture(scope="module")
def tiny_video_teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("video-teacher") / "teacher"
    config = jobs.TeacherConfig(modality="video", data="cifar10_clips", arch="video_cnn", arch_kwargs=TINY_VIDEO,
                                epochs=1, batch_size=64, train_limit=512, frames=2, frame_stride=2, clip_size=16)
    result = jobs.train_teacher(config, out, verbose=0)
    assert result["modality"] == "video" and result["input_shape"] == [2, 16, 16, 3]
    assert result["num_test_examples"] == 10000
    return out


def test_distil_from_fake_clips_and_a_real_video(tiny_video_teacher, tmp_path, shared_data):
    for source in ("astronaut", str(shared_data / "videos" / "car-detection.mp4")):
        config = jobs.DistillConfig(modality="video", teacher=str(tiny_video_teacher), source=source,
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
            jobs.run_distillation(jobs.DistillConfig(**{**base, **extra}), tmp_path / "bad", verbose=0)
        assert fragment in str(excinfo.value) and "\n" not in str(excinfo.value), (extra, str(excinfo.value))
        assert not (tmp_path / "bad" / "student.keras").exists()
    with pytest.raises(ValueError, match="takes video clips"):
        jobs.run_distillation(jobs.DistillConfig(teacher=str(tiny_video_teacher), eval="cifar10"), tmp_path / "b2",
                              verbose=0)
    with pytest.raises(ValueError, match="not for video"):
        jobs.DistillConfig(modality="video", augment="imagenet")


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
