"""Tests for aip_keras.sources.video: fake clips of one image, windows of one real video, temporal windows."""
import numpy as np
import pytest
import tensorflow as tf
from helpers import eager_and_mapped

from aip_keras.decode.image import load_image
from aip_keras.sources import video
from aip_keras.sources.image_chain import image_seed


def _frames(n=20, height=40, width=60, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, height, width, 3), dtype=np.uint8)


def test_fake_clip_shapes_ranges_and_determinism():
    chain = video.ClipChain(clip_size=16, frames=6)
    image = load_image("astronaut")
    clip = chain(image, seed=3).numpy()
    assert clip.shape == (6, 16, 16, 3) and clip.dtype == np.float32 and 0.0 <= clip.min() <= clip.max() <= 1.0
    np.testing.assert_array_equal(clip, chain(image, seed=3).numpy())
    assert not np.array_equal(clip, chain(image, seed=4).numpy())
    grey = video.ClipChain(clip_size=16, frames=2, channels=1)(image, seed=0)
    assert grey.shape == (2, 16, 16, 1)


def test_interpolation_starts_at_box_one_and_ends_at_box_two():
    chain = video.ClipChain(clip_size=16, frames=5, jitter_p=0.0)
    image = load_image("astronaut")
    boxes, _ = chain.sample_boxes(tf.shape(image)[:2], image_seed(7))
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
    eager, mapped = eager_and_mapped(video.ClipChain(clip_size=8, frames=3), _frames(3, 20, 20), tf.constant(0, tf.int64))
    assert mapped.shape == (3, 8, 8, 3)
    np.testing.assert_allclose(eager, mapped, atol=1e-6)
    assert source.get_config()["num_frames"] == 20 and image_source.get_config()["image"] == "astronaut"


def test_source_bad_inputs_are_one_line():
    for call, fragment in (
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
