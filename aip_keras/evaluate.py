"""Judge a student beside its teacher on a real labelled test set."""

import time

import numpy as np
from keras import ops

from aip_keras.input_spec import InputSpec


def predict_logits(model, dataset, input_spec=None, verbose=0):
    """Stacked outputs of `model` over a labelled `(x, y)` dataset, and the labels.

    Args:
        model: a classifier.
        dataset: a batched `tf.data.Dataset` of `(x, y)`, x in [0, 1].
        input_spec: `InputSpec` converting x for this model (default: none).

    Returns:
        `(outputs, labels)` as numpy arrays.
    """
    spec = input_spec or InputSpec()
    outputs, labels = [], []
    for x, y in dataset:
        outputs.append(ops.convert_to_numpy(model(spec(x), training=False)))
        labels.append(np.asarray(y))
    if not outputs:
        raise ValueError("the evaluation dataset is empty: check its path and split.")
    return np.concatenate(outputs).astype("float32"), np.concatenate(labels).astype("int64")


def topk_accuracy(outputs, labels, k=1):
    """Fraction of rows whose label is among the k highest outputs."""
    k = min(k, outputs.shape[-1])
    top = np.argsort(-outputs, axis=-1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=-1)))


def compare(student, dataset, teacher=None, student_spec=None, teacher_spec=None):
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
    student_out, labels = predict_logits(student, dataset, student_spec)
    results = {
        "num_examples": int(len(labels)),
        "student_top1": topk_accuracy(student_out, labels, 1),
        "student_top5": topk_accuracy(student_out, labels, 5),
    }
    if teacher is not None:
        teacher_out, _ = predict_logits(teacher, dataset, teacher_spec)
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

