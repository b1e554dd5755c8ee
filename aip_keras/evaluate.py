"""Judge a student beside its teacher on a real labelled test set."""

import time

import numpy as np
from keras import ops

from aip_keras.input_spec import InputSpec
from aip_keras.model_facts import output_kind


def predict_logits(models, dataset, input_specs=None):
    """Outputs of several models over ONE pass of a labelled `(x, y)` dataset.

    One pass matters: a shuffled dataset yields a new order on every pass, so
    each model must see the same batches as the labels that are returned.

    Args:
        models: a list of classifiers.
        dataset: a batched `tf.data.Dataset` of `(x, y)`, x in [0, 1].
        input_specs: one `InputSpec` (or None for none) per model.

    Returns:
        `(outputs, labels)`: a list of numpy arrays, one per model, and the labels.
    """
    specs = [spec or InputSpec() for spec in (input_specs or [None] * len(models))]
    outputs, labels = [[] for _ in models], []
    for x, y in dataset:
        for model, spec, out in zip(models, specs, outputs):
            out.append(ops.convert_to_numpy(model(spec(x), training=False)))
        labels.append(np.asarray(y))
    if not labels:
        raise ValueError("the evaluation dataset is empty: check its path and split.")
    return (
        [np.concatenate(out).astype("float32") for out in outputs],
        np.concatenate(labels).astype("int64"),
    )


class MultiClip:
    """A video classifier scored on several temporal windows of each video, softmax averaged.

    Calling it on videos `(B, T, H, W, C)` runs the model on `x[:, w]` for each
    window `w` (rows of `windows`, e.g. from
    `aip_keras.sources.video.temporal_windows`) and returns the log of the
    mean softmax: its argmax is the averaged prediction (the paper: 10 windows x
    1 centre crop). A model that outputs probabilities is averaged as is.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2, 4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    >>> MultiClip(model, [[0, 1], [2, 3]])(np.zeros((5, 4, 4, 4, 3), "float32")).shape
    (5, 3)
    """

    def __init__(self, model, windows):
        self.model = model
        self.windows = np.asarray(windows, "int32")
        if self.windows.ndim != 2 or self.windows.size == 0:
            raise ValueError(f"windows must be a (clips, frames) index array, got shape {self.windows.shape}.")
        self.probabilities = output_kind(model) == "probabilities"

    def __call__(self, videos, training=False):
        total = 0.0
        for window in self.windows:
            out = ops.convert_to_numpy(self.model(ops.take(videos, window, axis=1), training=training))
            total = total + (out if self.probabilities else _softmax(out))
        return np.log(np.maximum(total / len(self.windows), 1e-12)).astype("float32")


def _softmax(logits):
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def topk_accuracy(outputs, labels, k=1):
    """Fraction of rows whose label is among the k highest outputs."""
    k = min(k, outputs.shape[-1])
    top = np.argsort(-outputs, axis=-1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=-1)))


def compare(student, dataset, teacher=None, student_spec=None, teacher_spec=None, windows=None):
    """Top-1/top-5 of the student (and teacher) and their top-1 agreement.

    Example:

    >>> import keras, numpy as np, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> data = tf.data.Dataset.from_tensor_slices((np.eye(4, dtype="float32"), np.arange(4) % 3)).batch(2)
    >>> sorted(compare(model, data, teacher=model))[:3]
    ['agreement', 'num_examples', 'student_top1']

    Returns:
        dict with `student_top1`, `student_top5`, and when a teacher is given
        `teacher_top1`, `teacher_top5`, `agreement`; plus `num_examples` and
        `seconds`.
    """
    start = time.perf_counter()
    if windows is not None:  # videos: each model scored on several temporal windows (MultiClip)
        student = MultiClip(student, windows)
        teacher = MultiClip(teacher, windows) if teacher is not None else None
    models = [student] + ([teacher] if teacher is not None else [])
    (student_out, *teacher_out), labels = predict_logits(models, dataset, [student_spec, teacher_spec])
    results = {
        "num_examples": int(len(labels)),
        "student_top1": topk_accuracy(student_out, labels, 1),
        "student_top5": topk_accuracy(student_out, labels, 5),
    }
    if teacher is not None:
        teacher_out = teacher_out[0]
        results.update(
            teacher_top1=topk_accuracy(teacher_out, labels, 1),
            teacher_top5=topk_accuracy(teacher_out, labels, 5),
            agreement=float(np.mean(teacher_out.argmax(-1) == student_out.argmax(-1))),
        )
    results["seconds"] = time.perf_counter() - start
    return results


def format_comparison(results):
    """A small side-by-side table of `compare`'s results."""
    lines = [f"{'':10s}{'top-1':>9s}{'top-5':>9s}"]
    for who in ("teacher", "student"):
        if f"{who}_top1" in results:
            lines.append(
                f"{who:10s}{results[who + '_top1']:9.4f}{results[who + '_top5']:9.4f}"
            )
    if "agreement" in results:
        lines.append(f"agreement (student top-1 == teacher top-1): {results['agreement']:.4f}")
    lines.append(f"on {results['num_examples']} labelled test examples")
    return "\n".join(lines)

