"""Teachers: every input form, softmax detection, clear one-line errors, fast offline failures."""
import os
import time

import keras
import numpy as np
import pytest

from aip_keras import teachers
from aip_keras.model_facts import output_kind
from aip_keras.utils import network_available
from aip_keras.input_spec import InputSpec

OFFLINE = not network_available()
needs_offline = pytest.mark.skipif(not OFFLINE, reason="this machine has network: it would really download")


def tiny_cnn(input_shape=(12, 12, 1), num_classes=4, head=None):
    """A small functional classifier; `head` is an optional final activation layer."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(num_classes, name="logits")(x)
    if head is not None:
        x = head(x)
    return keras.Model(inputs, x, name="tiny")


def _images(shape=(12, 12, 1), n=3):
    return np.random.default_rng(0).uniform(0, 1, (n, *shape)).astype("float32")


def _assert_same(a, b):
    x = _images(a.input_shape[1:])
    np.testing.assert_allclose(a(x).numpy(), b(x).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- forms


def test_model_object_is_frozen_with_its_spec():
    model = tiny_cnn()
    loaded, spec = teachers.load_teacher(model)
    assert loaded is model and loaded.trainable is False
    assert (spec.size, spec.channels, spec.value_range) == ((12, 12), 1, (0.0, 1.0))
    given = InputSpec(size=(12, 12), channels=1, value_range=(0, 255))
    assert teachers.load_teacher(tiny_cnn(), input_spec=given)[1] is given
    assert teachers.load_teacher(tiny_cnn(), input_spec=given.to_dict())[1].value_range == (0.0, 255.0)


def test_keras_file(tmp_path):
    model = tiny_cnn()
    model.save(tmp_path / "t.keras")
    loaded, spec = teachers.load_teacher(str(tmp_path / "t.keras"))
    _assert_same(model, loaded)
    assert loaded.trainable is False and spec.size == (12, 12)


def test_legacy_h5_file(tmp_path):
    model = tiny_cnn()
    model.save(tmp_path / "t.h5")
    loaded, _ = teachers.load_teacher(tmp_path / "t.h5")
    _assert_same(model, loaded)


def test_weights_file_with_callable_arch(tmp_path):
    model = tiny_cnn(num_classes=5)
    model.save_weights(tmp_path / "t.weights.h5")
    loaded, spec = teachers.load_teacher(
        tmp_path / "t.weights.h5",
        arch=lambda shape, n: tiny_cnn(shape, n),
        num_classes=5,
        input_shape=(12, 12, 1),
    )
    _assert_same(model, loaded)
    via_spec, _ = teachers.load_teacher(
        tmp_path / "t.weights.h5", arch=lambda shape, n: tiny_cnn(shape, n), num_classes=5,
        input_spec=InputSpec(size=(12, 12), channels=1),
    )
    _assert_same(model, via_spec)
    with pytest.raises(ValueError, match="holds weights only: pass arch="):
        teachers.load_teacher(tmp_path / "t.weights.h5")
    with pytest.raises(ValueError, match="need num_classes"):
        teachers.load_teacher(tmp_path / "t.weights.h5", arch="tiny_cnn")
    with pytest.raises(ValueError, match="need the input shape"):
        teachers.load_teacher(tmp_path / "t.weights.h5", arch="tiny_cnn", num_classes=5)
    with pytest.raises(ValueError, match="do not fit .* 7 classes"):
        teachers.load_teacher(
            tmp_path / "t.weights.h5", arch=lambda shape, n: tiny_cnn(shape, n), num_classes=7,
            input_shape=(12, 12, 1),
        )


def test_weights_file_with_registry_arch(tmp_path):
    from aip_keras import models

    model = models.build("tiny_cnn", (28, 28, 1), 10)
    model.save_weights(tmp_path / "m.weights.h5")
    loaded, spec = teachers.load_teacher(
        tmp_path / "m.weights.h5", arch="tiny_cnn", num_classes=10, input_shape=(28, 28, 1)
    )
    _assert_same(model, loaded)
    assert spec.size == (28, 28) and spec.channels == 1


def test_hf_layout_folder(tmp_path):
    model = tiny_cnn(head=keras.layers.Softmax())
    model.save(tmp_path / "folder", zipped=False)  # what model.save("hf://...") uploads
    assert {"config.json", "metadata.json", "model.weights.h5"} <= set(os.listdir(tmp_path / "folder"))
    loaded, spec = teachers.load_teacher(tmp_path / "folder")
    _assert_same(model, loaded)
    assert output_kind(loaded) == "probabilities"


def test_hf_handle_uses_local_cache_offline(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    model = tiny_cnn()
    model.save(tmp_path / "snapshot", zipped=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls = []

    def snapshot_download(repo_id, local_files_only=False, **kwargs):
        calls.append((repo_id, local_files_only))
        return str(tmp_path / "snapshot")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    loaded, _ = teachers.load_teacher("hf://someone/teacher")
    assert calls == [("someone/teacher", True)]
    _assert_same(model, loaded)


# --------------------------------------------------------------------------- bad input


def _one_line(info):
    message = str(info.value)
    assert "\n" not in message and ": " in message, message
    return message


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ValueError, match=r"teacher file .*nope.keras does not exist: pass") as info:
        teachers.load_teacher(tmp_path / "nope.keras")
    _one_line(info)
    (tmp_path / "garbage.keras").write_bytes(os.urandom(2048))
    with pytest.raises(ValueError, match=r"garbage.keras is not a .keras \(zip\) archive") as info:
        teachers.load_teacher(tmp_path / "garbage.keras")
    _one_line(info)
    import zipfile

    with zipfile.ZipFile(tmp_path / "badzip.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(ValueError, match="badzip.keras cannot be read as a Keras model") as info:
        teachers.load_teacher(tmp_path / "badzip.keras")
    _one_line(info)
    (tmp_path / "garbage.h5").write_bytes(b"\x89HDF\r\n" + os.urandom(512))
    with pytest.raises(ValueError, match="garbage.h5 cannot be read"):
        teachers.load_teacher(tmp_path / "garbage.h5")
    tiny_cnn().save_weights(tmp_path / "w.weights.h5")
    os.replace(tmp_path / "w.weights.h5", tmp_path / "w.h5")  # weights saved under a model name
    with pytest.raises(ValueError, match="cannot be read as a Keras model"):
        teachers.load_teacher(tmp_path / "w.h5")
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(ValueError, match="has no config.json"):
        teachers.load_teacher(tmp_path / "empty_folder")
    (tmp_path / "x.onnx").write_bytes(b"x")
    with pytest.raises(ValueError, match="unknown extension '.onnx'"):
        teachers.load_teacher(tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="unknown teacher kind 'foo'"):
        teachers.load_teacher("foo:something")
    with pytest.raises(ValueError, match="must be a keras.Model or a string"):
        teachers.load_teacher(42)


def test_lambda_needs_safe_mode_opt_out(tmp_path):
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(x)))
    model.save(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="safe_mode=False") as info:
        teachers.load_teacher(tmp_path / "lam.keras")
    _one_line(info)
    loaded, _ = teachers.load_teacher(tmp_path / "lam.keras", safe_mode=False)
    _assert_same(model, loaded)


def test_not_a_classifier():
    inputs = keras.Input((12, 12, 1))
    feature_map = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))
    with pytest.raises(ValueError, match=r"outputs shape \(None, 10, 10, 4\), not a class vector") as info:
        teachers.load_teacher(feature_map)
    _one_line(info)
    a, b = keras.Input((12, 12, 1)), keras.Input((12, 12, 1))
    two_inputs = keras.Model([a, b], keras.layers.Dense(3)(keras.layers.Flatten()(keras.layers.Add()([a, b]))))
    with pytest.raises(ValueError, match="has 2 inputs"):
        teachers.load_teacher(two_inputs)
    flat = keras.Input((12, 12, 1))
    two_outputs = keras.Model(flat, [keras.layers.Dense(3)(keras.layers.Flatten()(flat))] * 2)
    with pytest.raises(ValueError, match="has 2 outputs"):
        teachers.load_teacher(two_outputs)
    sequence_in = keras.Input((16, 4))  # rank 3: neither an image, a clip nor a waveform
    sequence_model = keras.Model(sequence_in, keras.layers.Dense(3)(keras.layers.Flatten()(sequence_in)))
    with pytest.raises(ValueError, match="takes inputs of shape"):
        teachers.load_teacher(sequence_model)
    waveform_in = keras.Input((16,))  # a waveform classifier is a valid (audio) teacher
    model, spec = teachers.load_teacher(keras.Model(waveform_in, keras.layers.Dense(3)(waveform_in)))
    assert model.trainable is False and spec.size is None
    with pytest.raises(ValueError, match="no defined input"):
        teachers.load_teacher(keras.Sequential([keras.layers.Dense(3)]))
    with pytest.raises(ValueError, match="is a layer, not a model"):
        teachers.load_teacher(keras.layers.Dense(3))


# --------------------------------------------------------------------------- remote, offline


@needs_offline
@pytest.mark.parametrize(
    "handle, message",
    [
        ("keras.applications:ResNet50", r"keras.applications ResNet50 weights are not in the Keras cache .*no network"),
        ("hf://keras-io/no-such-teacher", r"Hugging Face model keras-io/no-such-teacher is not in the local cache .*no network"),
        ("kerashub:resnet_18_imagenet", r"keras-hub preset resnet_18_imagenet cannot be downloaded \(no network\)"),
    ],
)
def test_remote_teachers_fail_fast_offline(handle, message):
    if handle.startswith("keras.applications") and os.path.exists(
        os.path.expanduser("~/.keras/models/resnet50_weights_tf_dim_ordering_tf_kernels.h5")
    ):
        pytest.skip("ResNet50 weights are cached here")
    start = time.time()
    with pytest.raises(ValueError, match=message) as info:
        teachers.load_teacher(handle)
    assert time.time() - start < 15
    _one_line(info)


def test_unknown_application():
    with pytest.raises(ValueError, match="has no classifier 'ResNet51': choose one of .*ResNet50"):
        teachers.load_teacher("keras.applications:ResNet51")
    with pytest.raises(ValueError, match="has no classifier 'decode_predictions'"):
        teachers.load_teacher("keras.applications:decode_predictions")


def test_cached_downloads_only(tmp_path):
    from keras.src.utils import file_utils

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cached.h5").write_bytes(b"weights")
    with teachers._cached_downloads_only("test teacher"):
        path = file_utils.get_file("cached.h5", "https://invalid.example/cached.h5",
                                   cache_subdir="models", cache_dir=str(tmp_path))
        assert path == str(tmp_path / "models" / "cached.h5")
        with pytest.raises(ValueError, match="test teacher weights are not in the Keras cache"):
            file_utils.get_file("missing.h5", "https://invalid.example/missing.h5",
                                cache_subdir="models", cache_dir=str(tmp_path))
    assert file_utils.get_file is not None and file_utils.get_file.__name__ == "get_file"
    assert file_utils.get_file.__module__ == "keras.src.utils.file_utils"


# --------------------------------------------------------------------------- families


def test_caffe_wrapper_matches_preprocess_input():
    inputs = keras.Input((8, 8, 3))
    base = keras.Model(inputs, keras.layers.Flatten()(inputs), name="identity")
    wrapped = teachers._caffe_rgb_wrapper(base)
    rgb = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    expected = keras.applications.resnet.preprocess_input(rgb.copy()).reshape(2, -1)
    np.testing.assert_allclose(wrapped(rgb).numpy(), expected, atol=1e-4)


@pytest.mark.parametrize(
    "name, value_range, mean, wrapped",
    [
        ("ResNet50", (0.0, 255.0), None, True),
        ("MobileNetV2", (-1.0, 1.0), None, False),
        ("DenseNet121", (0.0, 1.0), [0.485, 0.456, 0.406], False),
        ("EfficientNetB0", (0.0, 255.0), None, False),
    ],
)
def test_application_family_specs(name, value_range, mean, wrapped):
    # weights=None only to check the architecture and spec offline; load_teacher always asks for imagenet.
    model, spec = teachers._application_teacher(name, weights=None)
    assert spec.size == (224, 224) and spec.channels == 3 and spec.value_range == value_range
    assert spec.mean == mean
    assert model.output_shape == (None, 1000) and output_kind(model) == "logits"
    assert (model.layers[1].name == "caffe_rgb_to_bgr_minus_mean") == wrapped


def test_kerashub_local_preset(tmp_path):
    keras_hub = pytest.importorskip("keras_hub")
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64],
        stackwise_num_blocks=[1], stackwise_num_strides=[1], block_type="basic_block",
        image_shape=(16, 16, 3),
    )
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    converter = keras_hub.layers.ResNetImageConverter(
        image_size=(16, 16), scale=[1 / (255 * s) for s in std], offset=[-m / s for m, s in zip(mean, std)],
    )
    classifier = keras_hub.models.ResNetImageClassifier(
        backbone=backbone, num_classes=5,
        preprocessor=keras_hub.models.ResNetImageClassifierPreprocessor(image_converter=converter),
    )
    classifier.save_to_preset(tmp_path / "preset")
    for handle in (f"kerashub:{tmp_path / 'preset'}", tmp_path / "preset"):
        model, spec = teachers.load_teacher(handle)
        assert model.output_shape == (None, 5) and model.trainable is False
        assert spec.size == (16, 16) and spec.value_range == (0.0, 255.0)
        np.testing.assert_allclose(spec.mean, [255 * m for m in mean], rtol=1e-5)
        np.testing.assert_allclose(spec.std, [255 * s for s in std], rtol=1e-5)
        x = _images((16, 16, 3), 2)
        np.testing.assert_allclose(
            model(spec(x)).numpy(), classifier(converter(x * 255.0)).numpy(), atol=1e-5
        )
