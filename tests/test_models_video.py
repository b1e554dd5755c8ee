"""Tests for aip_keras.models.video: video_cnn, x3d (grouped Conv3D on CPU), save/load, errors, keras-cv VideoSwin."""
import numpy as np
import pytest
import tensorflow as tf

import keras
from aip_keras import models
from aip_keras.models import video

SHAPE = (4, 16, 16, 3)
TINY_X3D = {"base_width": 8, "stages": (1, 2)}


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _clips(n=2, shape=SHAPE, seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def _blocks(model):
    return sum(layer.name.endswith("_add") for layer in model.layers)


def test_registry_lists_video_models():
    assert {"video_cnn", "x3d", "x3d_xs", "x3d_s"} <= set(models.list_models())
    assert models.list_models("x3d*") == ["x3d", "x3d_s", "x3d_xs"]


@pytest.mark.parametrize("name,kwargs", [("video_cnn", {}), ("video_cnn", {"widths": (8, 16)}), ("x3d", {}),
                                         ("x3d_xs", TINY_X3D), ("x3d_s", TINY_X3D)])
def test_builds_and_runs(name, kwargs):
    model = models.build(name, SHAPE, 7, **kwargs)
    assert model.name == name
    assert model.input_shape == (None, *SHAPE) and model.output_shape == (None, 7)
    logits = keras.ops.convert_to_numpy(model(_clips(), training=False))
    assert logits.shape == (2, 7) and np.all(np.isfinite(logits))
    assert model.layers[-1].get_config().get("activation") == "linear"  # logits, no softmax


def test_grey_clips_and_normalisation_inside():
    model = models.build("video_cnn", (2, 16, 16, 1), 3, widths=(8,))
    assert model(_clips(1, (2, 16, 16, 1))).shape == (1, 3)
    norm = models.build("video_cnn", SHAPE, 3, widths=(8,)).get_layer("normalize")
    out = keras.ops.convert_to_numpy(norm(np.full((1, *SHAPE), 0.5, "float32")))[0, 1, 2, 3]
    np.testing.assert_allclose(out, (0.5 - np.array(models.CIFAR10_MEAN)) / np.array(models.CIFAR10_STD), rtol=1e-4)
    assert "normalize" not in [layer.name for layer in models.build("video_cnn", SHAPE, 3, mean=None, std=None).layers]


def test_video_cnn_size_and_layout():
    model = models.build("video_cnn", (4, 32, 32, 3), 10)
    assert _trainable(model) == 159_722  # docstring: 0.15-0.17M
    assert 0.15e6 <= _trainable(model) <= 0.17e6
    assert model.get_layer("stage1_spatial_conv").kernel.shape[:3] == (1, 3, 3)
    assert model.get_layer("stage1_temporal_conv").kernel.shape[:3] == (3, 1, 1)
    assert model.get_layer("stage3_pool").output.shape == (None, 4, 8, 8, 64)  # space halved, time kept


def test_x3d_width_and_depth_factors():
    assert video.x3d_config()["stages"] == [(1, 24, 56), (2, 48, 112), (5, 96, 216), (3, 192, 432)]
    assert [n for n, _, _ in video.x3d_config(depth_factor=2.2)["stages"]] == [2, 4, 11, 7]
    assert all(w % 8 == 0 and i % 8 == 0 for _, w, i in video.x3d_config(width_factor=1.3)["stages"])
    base = models.build("x3d", SHAPE, 10, **TINY_X3D)
    deep = models.build("x3d", SHAPE, 10, depth_factor=2.0, **TINY_X3D)
    wide = models.build("x3d", SHAPE, 10, width_factor=2.0, **TINY_X3D)
    assert (_blocks(base), _blocks(deep), _blocks(wide)) == (3, 6, 3)
    assert _trainable(wide) > 2.5 * _trainable(base) and _trainable(deep) > 1.5 * _trainable(base)
    assert _blocks(models.build("x3d_s", SHAPE, 10, **TINY_X3D)) == 6  # round(2.2 * (1, 2)) = (2, 4)
    assert _trainable(models.build("x3d", SHAPE, 10, head_width=32, **TINY_X3D)) < _trainable(base)
    depthwise = base.get_layer("res2_block1_depthwise")
    assert depthwise.groups == depthwise.filters and depthwise.kernel.shape == (3, 3, 3, 1, depthwise.filters)
    se = models.build("x3d", SHAPE, 10, se_ratio=0.25, **TINY_X3D)
    assert "res3_block1_se" in [layer.name for layer in se.layers] and _trainable(se) > _trainable(base)


def test_x3d_default_size():
    assert _trainable(models.build("x3d", (4, 32, 32, 3), 10)) == pytest.approx(0.874e6, rel=0.01)


@pytest.mark.parametrize("name,kwargs", [("video_cnn", {"widths": (8, 16)}), ("x3d", TINY_X3D)])
def test_gradient_steps_reduce_the_loss(name, kwargs):
    """Grouped (depthwise) Conv3D included: finite non-zero gradients, and a few steps fit a fixed batch."""
    model = models.build(name, SHAPE, 4, **kwargs)
    x, y = _clips(8), np.arange(8) % 4
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(1e-2)

    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return float(loss), grads

    first, grads = step()
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    if name == "x3d":
        g = grads[[v.path for v in model.trainable_variables].index("res2_block1_depthwise/kernel")]
        assert np.abs(g.numpy()).sum() > 0
    losses = [step()[0] for _ in range(4)]
    assert losses[-1] < first, (first, losses)


@pytest.mark.parametrize("name,kwargs", [("video_cnn", {"widths": (8, 16), "dropout": 0.2}),
                                         ("x3d", {**TINY_X3D, "se_ratio": 0.25})])
def test_save_and_load_safe_mode(name, kwargs, tmp_path):
    model = models.build(name, SHAPE, 5, **kwargs)
    x = _clips(3)
    model(x, training=True)  # move the BN statistics away from their initial values
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.name == name
    np.testing.assert_array_equal(loaded.predict_on_batch(x), model.predict_on_batch(x))


@pytest.mark.parametrize("name", ["video_cnn", "x3d"])
def test_image_shape_is_a_one_line_error(name):
    with pytest.raises(ValueError) as excinfo:
        models.build(name, (32, 32, 3), 10)
    assert str(excinfo.value) == (
        "video models take clips: input_shape must be (frames, height, width, channels), got (32, 32, 3): "
        "e.g. (4, 32, 32, 3)."
    )
    for bad, fragment in (((4, 4, 4, 3), "at least 8 pixels"), ((0, 16, 16, 3), "at least 1 frame")):
        with pytest.raises(ValueError, match=fragment) as excinfo:
            models.build(name, bad, 10)
        assert "\n" not in str(excinfo.value)
    with pytest.raises(ValueError, match="Unknown option"):
        models.build(name, SHAPE, 10, width=3)


def test_videoswin_from_config():
    model = video.videoswin_classifier(6, input_shape=(4, 32, 32, 3), embed_dim=16, depths=[1, 1], num_heads=[1, 1],
                                       window_size=[2, 4, 4], patch_size=[2, 4, 4], drop_path_rate=0.0)
    import keras_cv

    assert isinstance(model, keras_cv.models.VideoClassifier)
    assert isinstance(model.backbone, keras_cv.models.VideoSwinBackbone)
    assert model.name == "videoswin_classifier" and model.output_shape == (None, 6)
    logits = keras.ops.convert_to_numpy(model(_clips(2, (4, 32, 32, 3))))
    assert logits.shape == (2, 6) and np.all(np.isfinite(logits)) and not np.allclose(logits.sum(-1), 1.0)


def test_videoswin_preset_errors_are_one_line(monkeypatch):
    import keras_cv

    def message(**kwargs):
        with pytest.raises(ValueError) as excinfo:
            video.videoswin_classifier(**kwargs)
        assert "\n" not in str(excinfo.value), str(excinfo.value)
        return str(excinfo.value)

    # keras-cv 0.9 lists the Video Swin presets without a Kaggle handle: no weights to download.
    assert message(preset="videoswin_tiny_kinetics400").startswith(
        f"cannot download keras-cv preset videoswin_tiny_kinetics400 (keras-cv {keras_cv.__version__} lists it but "
        "publishes no weights")
    assert "not a video one" in message(preset="resnet50_imagenet")
    assert message(preset="nope").startswith("cannot build keras-cv preset nope: ValueError:")

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'api.kaggle.com'\n(Name or service not known)")

    monkeypatch.setattr(keras_cv.models.VideoClassifier, "from_preset", offline)
    assert message(preset="kaggle://keras/videoswin/keras/videoswin_tiny_kinetics400") == (
        "cannot download keras-cv preset kaggle://keras/videoswin/keras/videoswin_tiny_kinetics400 (no network?): "
        "ConnectionError: Failed to resolve 'api.kaggle.com' (Name or service not known)"
    )


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
