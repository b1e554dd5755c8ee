"""Tests for aip_keras.input_spec: InputSpec converts [0, 1] batches (eagerly and inside tf.data), spec_for_model."""
import keras
import numpy as np
import pytest
from helpers import eager_and_mapped

from aip_keras.input_spec import InputSpec, spec_for_model

LUMA = np.array([0.2989, 0.5870, 0.1140], np.float32)  # rgb_to_grayscale's weights


def _images(shape=(2, 4, 4, 3), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_identity_by_default():
    spec, x = InputSpec(), _images()
    assert spec.is_identity and spec.compute_output_shape((None, 4, 4, 3)) == (None, 4, 4, 3)
    for out in eager_and_mapped(spec, x):
        np.testing.assert_array_equal(out, x)
    assert not InputSpec(value_range=(0, 255)).is_identity and not InputSpec(channels=3).is_identity


@pytest.mark.parametrize("value_range", [(0, 255), (-1, 1), (0.5, 2.0)])
def test_value_range(value_range):
    low, high = value_range
    x = _images()
    for out in eager_and_mapped(InputSpec(value_range=value_range), x):
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, x * (high - low) + low, rtol=1e-6, atol=1e-5)


def test_mean_and_std_per_channel_and_scalar():
    x = _images()
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    for out in eager_and_mapped(InputSpec(mean=mean, std=std), x):
        np.testing.assert_allclose(out, (x - np.array(mean)) / np.array(std), rtol=1e-5, atol=1e-5)
    caffe = InputSpec(value_range=(0, 255), mean=127.5, std=127.5)  # scaled first, then normalised
    assert caffe.mean == [127.5] and caffe.std == [127.5]
    for out in eager_and_mapped(caffe, x):
        np.testing.assert_allclose(out, x * 2 - 1, atol=1e-5)


def test_channels_by_luma_and_by_repetition():
    rgb, grey = _images(), _images((2, 4, 4, 1), seed=1)
    to_grey, to_rgb = InputSpec(channels=1), InputSpec(channels=3)
    for out in eager_and_mapped(to_grey, rgb):
        assert out.shape == (2, 4, 4, 1)
        np.testing.assert_allclose(out[..., 0], rgb @ LUMA, atol=1e-4)
    for out in eager_and_mapped(to_rgb, grey):
        np.testing.assert_array_equal(out, np.repeat(grey, 3, axis=-1))
    for out in eager_and_mapped(to_grey, grey):  # already right: unchanged
        np.testing.assert_array_equal(out, grey)
    assert to_grey.input_shape_for((32, 32, 3)) == (32, 32, 1)


def test_resize_keeps_values_in_range_before_scaling():
    x = np.zeros((2, 4, 4, 3), np.float32)
    x[:, ::2, ::2] = 1.0  # a checkerboard overshoots under bicubic resizing
    spec = InputSpec(size=(9, 7), value_range=(0, 255), interpolation="bicubic")
    for out in eager_and_mapped(spec, x):
        assert out.shape == (2, 9, 7, 3)
        assert out.min() >= 0.0 and out.max() <= 255.0
    assert spec.compute_output_shape((None, 4, 4, 3)) == (None, 9, 7, 3)
    assert spec.input_shape_for((4, 4, 3)) == (9, 7, 3)
    same = _images((2, 9, 7, 3))
    np.testing.assert_array_equal(InputSpec(size=(9, 7))(same).numpy(), same)  # the right size: no resampling


def test_steps_in_order_resize_channels_range_then_mean_std():
    grey = np.full((2, 4, 4, 1), 0.5, np.float32)
    spec = InputSpec(size=(8, 8), channels=3, value_range=(0, 255), mean=[127.0, 127.5, 128.0], std=[64.0] * 3)
    for out in eager_and_mapped(spec, grey):
        assert out.shape == (2, 8, 8, 3)
        np.testing.assert_allclose(out[0, 0, 0], [(127.5 - m) / 64.0 for m in (127.0, 127.5, 128.0)], atol=1e-5)


def test_config_round_trip_and_to_dict():
    spec = InputSpec(size=(8, 6), channels=1, value_range=(0, 255), mean=[100.0], std=[50.0],
                     interpolation="nearest", name="teacher_view")
    config = spec.get_config()
    clone = InputSpec.from_config(config)
    assert clone.get_config() == config and clone.name == "teacher_view"
    restored = keras.layers.deserialize(keras.layers.serialize(spec))
    assert type(restored) is InputSpec and restored.get_config() == config
    x = _images((2, 4, 4, 3))
    np.testing.assert_allclose(restored(x).numpy(), spec(x).numpy(), atol=1e-6)
    assert spec.to_dict() == {"size": [8, 6], "channels": 1, "value_range": [0.0, 255.0], "mean": [100.0],
                              "std": [50.0], "interpolation": "nearest"}
    assert InputSpec(**InputSpec().to_dict()).is_identity


def test_inside_a_saved_model(tmp_path):
    inputs = keras.Input((4, 4, 3))
    x = InputSpec(size=(6, 6), value_range=(0, 255), mean=127.5, std=127.5)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    batch = _images()
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), model.predict(batch, verbose=0), rtol=1e-5)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"size": (8,)}, "size must be (height, width)"),
    ({"size": (0, 8)}, "size must be (height, width)"),
    ({"channels": 2}, "channels must be 1, 3 or None"),
    ({"value_range": (1, 0)}, "value_range must be (low, high) with high > low"),
    ({"mean": 0.5}, "needs both mean and std, or neither"),
    ({"std": 0.5}, "needs both mean and std, or neither"),
    ({"mean": [0.5] * 3, "std": [0.2, 0.0, 0.2]}, "std must be positive"),
])
def test_bad_values_are_one_line_errors(kwargs, fragment):
    with pytest.raises(ValueError) as excinfo:
        InputSpec(**kwargs)
    assert "\n" not in str(excinfo.value) and fragment in str(excinfo.value), str(excinfo.value)


def test_spec_for_model():
    inputs = keras.Input((12, 10, 1))
    spec = spec_for_model(keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs))))
    assert (spec.size, spec.channels, spec.value_range, spec.mean) == ((12, 10), 1, (0.0, 1.0), None)
    free = keras.Input((None, None, 3))
    spec = spec_for_model(keras.Model(free, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(free))))
    assert spec.size is None and spec.channels == 3
    a, b = keras.Input((4, 4, 3)), keras.Input((4, 4, 3))
    two = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Add()([a, b]))))
    flat = keras.Input((16,))
    for model, fragments in ((two, ("has 2 inputs", "one image input is needed")),
                             (keras.Model(flat, keras.layers.Dense(2)(flat)),
                              ("takes inputs of shape (None, 16)", "an image classifier"))):
        with pytest.raises(ValueError) as excinfo:
            spec_for_model(model)
        message = str(excinfo.value)
        assert "\n" not in message and all(fragment in message for fragment in fragments), message
