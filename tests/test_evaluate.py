import keras
import numpy as np
import tensorflow as tf

from aip_keras.evaluate import MultiClip, compare, format_comparison, topk_accuracy
from aip_keras.sources import video


def test_topk_accuracy_by_hand():
    outputs = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    labels = np.array([1, 1, 0])
    assert topk_accuracy(outputs, labels, 1) == 1 / 3
    assert topk_accuracy(outputs, labels, 2) == 2 / 3
    assert topk_accuracy(outputs, labels, 5) == 1.0  # k capped at the class count


def test_compare_uses_one_pass_of_a_reshuffling_dataset():
    x = np.random.default_rng(0).random((64, 4), dtype="float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    y = model.predict(x, verbose=0).argmax(-1)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=1).batch(16)
    results = compare(model, data, teacher=other)
    assert results["student_top1"] == 1.0  # labels stayed with their images
    expected_teacher = float(np.mean(other.predict(x, verbose=0).argmax(-1) == y))
    assert abs(results["teacher_top1"] - expected_teacher) < 1e-9
    assert abs(results["agreement"] - expected_teacher) < 1e-9
    table = format_comparison(results)
    assert "teacher" in table and "student" in table and "agreement" in table


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
