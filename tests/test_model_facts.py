"""What model_facts reads off a built model: output kind, classes, modality, audio format."""

import keras
import pytest

from aip_keras import models, teachers
from aip_keras.model_facts import audio_format, check_classifier, input_modality, num_classes, output_kind
from aip_keras.teachers import load_audio_model


def tiny_cnn(input_shape=(12, 12, 1), num_classes=4, head=None):
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(num_classes)(x)
    if head is not None:
        x = head(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize(
    "head, expected",
    [
        (None, "logits"),
        (keras.layers.Softmax, "probabilities"),
        (lambda: keras.layers.Activation("softmax"), "probabilities"),
        (lambda: keras.layers.Activation("relu"), "logits"),
    ],
)
def test_output_kind_heads(head, expected):
    assert output_kind(tiny_cnn(head=head() if head else None)) == expected


def test_output_kind_dense_softmax_sequential_and_nested(tmp_path):
    seq = keras.Sequential([
        keras.Input((12, 12, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax"),
    ])
    assert output_kind(seq) == "probabilities"
    inputs = keras.Input((12, 12, 1))
    nested = keras.Model(inputs, seq(keras.layers.Rescaling(1.0)(inputs)))
    assert output_kind(nested) == "probabilities"
    seq.save(tmp_path / "s.keras")
    loaded, _ = teachers.load_teacher(tmp_path / "s.keras")
    assert output_kind(loaded) == "probabilities"
    logits = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="log_softmax")])
    assert output_kind(logits) == "logits"




def test_modality_and_classes_from_the_input_rank():
    assert [input_modality(models.build(name, shape, 3)) for name, shape in (
        ("tiny_cnn", (12, 12, 1)), ("audio_cnn", (8000,)), ("video_cnn", (4, 16, 16, 3)))] == ["image", "audio", "video"]
    assert num_classes(tiny_cnn(num_classes=7)) == 7
    flat = keras.Input((4, 4, 1))
    with pytest.raises(ValueError, match="not a \\(batch, classes\\) vector"):
        num_classes(keras.Model(flat, keras.layers.Dense(2)(flat)), "teacher")
    with pytest.raises(ValueError, match="takes inputs of shape"):
        check_classifier(_rank3_model())


def _rank3_model():
    inputs = keras.Input((3, 4))
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))


def test_audio_format_reads_the_front_end_rate():
    model = models.build("audio_cnn", (8000,), 10, sample_rate=8000)
    assert audio_format(model) == {"sample_rate": 8000, "samples": 8000}


def test_audio_format_rejects_image_models(tmp_path):
    image_model = models.build("tiny_cnn", (28, 28, 1), 10)
    with pytest.raises(ValueError) as excinfo:
        audio_format(image_model)
    assert "not raw waveforms" in str(excinfo.value) and "\n" not in str(excinfo.value)
    (tmp_path / "junk.keras").write_text("junk")
    for bad, fragment in ((tmp_path / "none.keras", "does not exist"), (tmp_path / "junk.keras", "not a .keras"),
                          (tmp_path, "no config.json")):
        with pytest.raises(ValueError, match=fragment):
            load_audio_model(bad)
