"""Tests for aip_keras.models: registry, shapes, sizes, save/load round trips."""
import numpy as np
import pytest

import keras
from aip_keras import models
from aip_keras.models import resnet

REGISTERED = [
    "resnet18", "resnet50", "small_cnn", "tiny_cnn", "wrn16_1", "wrn16_2", "wrn16_4", "wrn16_8",
    "wrn28_10", "wrn40_1", "wrn40_2", "wrn40_4",
]


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_registry_lists_all():
    assert set(REGISTERED) <= set(models.list_models())
    assert models.list_models("wrn16_*") == ["wrn16_1", "wrn16_2", "wrn16_4", "wrn16_8"]


# Trainable parameters with 10 classes at 32x32x3 (BatchNorm moving statistics excluded, as in PyTorch).
EXPECTED_PARAMS = {
    "wrn16_4": 2.75e6,
    "wrn40_4": 8.96e6,
    "wrn28_10": 36.48e6,
    "resnet18": 11.17e6,
    "resnet50": 23.50e6 + 2048 * 10 + 10,
    "small_cnn": 0.288e6,
}


@pytest.mark.parametrize("name", REGISTERED)
@pytest.mark.parametrize("shape", [(32, 32, 3), (28, 28, 1)])
def test_builds_and_runs(name, shape):
    model = models.build(name, shape, 10)
    assert model.name == name
    assert model.input_shape == (None, *shape)
    assert model.output_shape == (None, 10)
    x = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
    logits = keras.ops.convert_to_numpy(model(x, training=False))
    assert logits.shape == (1, 10) and np.all(np.isfinite(logits))
    assert model.layers[-1].get_config().get("activation") == "linear"  # logits, no softmax
    if shape[-1] == 3 and name in EXPECTED_PARAMS:
        assert _trainable(model) == pytest.approx(EXPECTED_PARAMS[name], rel=0.01)


@pytest.mark.parametrize("name,expected", [("resnet18", 11_689_512), ("resnet50", 25_557_032)])
def test_imagenet_resnets_match_torchvision_size(name, expected):
    assert _trainable(models.build(name, (224, 224, 3), 1000)) == expected


def test_resnet_stems():
    small = models.build("resnet18", (32, 32, 3), 10)
    big = models.build("resnet18", (64, 64, 3), 10)
    assert "stem_pool" not in [layer.name for layer in small.layers]
    assert "stem_pool" in [layer.name for layer in big.layers]
    assert small.get_layer("stem_conv").kernel.shape[0] == 3
    assert big.get_layer("stem_conv").kernel.shape[0] == 7
    forced = models.build("resnet18", (32, 32, 3), 10, stem="imagenet")
    assert forced.get_layer("stem_conv").kernel.shape[0] == 7


@pytest.mark.parametrize("size", [28, 64, 224])
def test_other_sizes(size):
    for name in ("tiny_cnn", "wrn16_1", "resnet18"):
        model = models.build(name, (size, size, 3), 5)
        assert model(np.zeros((1, size, size, 3), "float32")).shape == (1, 5)


def test_normalisation_inside_the_model():
    model = models.build("tiny_cnn", (32, 32, 3), 10)
    norm = model.get_layer("normalize")
    x = np.full((1, 32, 32, 3), 0.5, "float32")
    out = keras.ops.convert_to_numpy(norm(x))[0, 0, 0]
    expected = (0.5 - np.array(models.CIFAR10_MEAN)) / np.array(models.CIFAR10_STD)
    np.testing.assert_allclose(out, expected, rtol=1e-4)
    grey = models.build("tiny_cnn", (28, 28, 1), 10).get_layer("normalize")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(grey(np.full((1, 2, 2, 1), 0.5, "float32")))[0, 0, 0, 0],
        (0.5 - models.FASHION_MNIST_MEAN[0]) / models.FASHION_MNIST_STD[0],
        rtol=1e-4,
    )
    plain = models.build("tiny_cnn", (32, 32, 3), 10, mean=None, std=None)
    assert "normalize" not in [layer.name for layer in plain.layers]
    custom = models.build("tiny_cnn", (32, 32, 3), 10, mean=0.5, std=0.25)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(custom.get_layer("normalize")(x)), 0.0, atol=1e-6)


def test_options():
    wrn = models.build("wrn16_2", (32, 32, 3), 10, dropout=0.3, weight_decay=5e-4)
    assert any(isinstance(layer, keras.layers.Dropout) for layer in wrn.layers)
    assert len(wrn.losses) > 0  # L2 on kernels
    assert len(models.build("wrn16_2", (32, 32, 3), 10).losses) == 0  # default: no weight decay
    assert models.build("tiny_cnn", (32, 32, 3), 10).get_layer("stage1_bn1").momentum == 0.9
    generic = models.wide_resnet(22, 1, (32, 32, 3), 7)
    assert generic.name == "wrn22_1" and generic.output_shape == (None, 7)


def _small_resnet(shape, weight_decay):
    # Same layer types as resnet18/50 (bottleneck blocks, imagenet stem), a fraction of the size.
    return resnet.resnet("bottleneck", (1, 1, 1, 1), shape, 10, stem="imagenet", weight_decay=weight_decay, name="rn")


@pytest.mark.parametrize(
    "name,shape", [("tiny_cnn", (28, 28, 1)), ("small_cnn", (32, 32, 3)), ("wrn16_1", (32, 32, 3)), ("rn", (64, 64, 3))]
)
def test_save_load_safe_mode(tmp_path, name, shape):
    if name == "rn":
        model = _small_resnet(shape, 5e-4)
    else:
        model = models.build(name, shape, 10, weight_decay=5e-4)
    x = np.random.default_rng(1).random((2, *shape), dtype=np.float32)
    # Perturb every weight (BatchNorm statistics included) so nothing is at its initial value.
    rng = np.random.default_rng(2)
    model.set_weights([w + rng.uniform(0.0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()])
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert loaded.name == name
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        rtol=1e-5,
        atol=1e-5,
    )
    clone = keras.models.clone_model(model)
    assert clone.count_params() == model.count_params()


def test_errors_are_one_line():
    cases = [
        (lambda: models.build("wrn99_9", (32, 32, 3), 10), "Unknown model 'wrn99_9': choose one of"),
        (lambda: models.build("wrn16_1", (32, 32, 3), 10, widen=3), "Unknown option"),
        (lambda: models.wide_resnet(17, 1), "6 n \\+ 4"),
        (lambda: models.build("resnet18", (32, 32, 3), 10, stem="tiny"), "stem must be"),
        (lambda: models.build("tiny_cnn", (32, 32), 10), "input_shape"),
        (lambda: models.build("tiny_cnn", (32, 32, 4), 10), "No default mean/std"),
        (lambda: models.build("tiny_cnn", (32, 32, 3), 10, mean=(0.5, 0.5), std=0.2), "values for 3 channels"),
        (lambda: models.build("tiny_cnn", (32, 32, 3), 10, mean=0.5), "both"),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            fn()
        assert "\n" not in str(info.value)
