"""The Distiller: a frozen teacher labels augmented inputs, a student learns.

`keras.distillation.Distiller` needs labels in every batch for its compiled
metrics and crashes on x-only datasets, which is exactly the single-image case;
it also has no per-model input views or probability teachers. Hence our own.
"""

import keras
import tensorflow as tf
from keras import ops

from aip_keras.callbacks import StopOnNonFiniteLoss
from aip_keras.config import TEACHER_OUTPUTS
from aip_keras.input_spec import InputSpec, spec_for_model
from aip_keras.losses import DistillationLoss, probabilities_to_logits
from aip_keras.model_facts import num_classes, output_kind


@keras.saving.register_keras_serializable(package="aip_keras")
class Distiller(keras.Model):
    """Trains `student` to match a frozen `teacher`, with or without labels.

    Each batch `x` (images in [0, 1], or whatever both models take) is shown to
    the teacher (`training=False`) and to the student through their own
    `InputSpec` views. The loss is `DistillationLoss` (KL at temperature tau,
    batch mean) plus the student's regularisation losses, plus an optional
    cross-entropy on true labels when the data has them (`label_weight`).

    Data may be x-only (the single-image case: no labels anywhere) or `(x, y)`
    with integer labels; compiled metrics (e.g. `"accuracy"`) compare the
    student with `y` and are skipped on x-only batches. The teacher-student
    top-1 `agreement` is always reported. `call` returns the student's output,
    so `predict` and `evaluate` judge the student. Keep a result by saving the
    student alone: `distiller.student.save("student.keras")`.

    Args:
        teacher: a classifier returning `(batch, classes)` logits or
            probabilities. It is frozen.
        student: a classifier with the same number of classes, returning logits.
        temperature: tau > 0 (the paper: 8 for images, 5 for video).
        scale_by_temperature_squared: multiply the KL by tau^2 (off, as in the
            paper's code).
        hard_targets: match the teacher's argmax instead of its softened output.
        label_weight: weight of a sparse cross-entropy on true labels, used only
            for batches that carry labels (0 = pure distillation).
        teacher_outputs: `"logits"`, `"probabilities"` or `"auto"` (detect a
            final softmax). Probabilities become logits as `log(p)`.
        include_student_losses: add the student's regularisation losses (e.g.
            L2 weight decay). False reproduces the paper's code, which drops them.
        teacher_input_spec: `InputSpec` for the teacher's view; default: the
            teacher's own input size and channels, values in [0, 1].
        student_input_spec: the same for the student.

    Example:

    >>> import keras, numpy as np
    >>> teacher = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(4)])
    >>> student = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(4)])
    >>> distiller = Distiller(teacher, student, temperature=4.0)
    >>> distiller.compile(optimizer="adam")
    >>> history = distiller.fit(np.random.rand(16, 8, 8, 3), epochs=1, verbose=0)
    >>> distiller.predict(np.random.rand(2, 8, 8, 3), verbose=0).shape
    (2, 4)
    """

    def __init__(
        self,
        teacher,
        student,
        temperature=8.0,
        scale_by_temperature_squared=False,
        hard_targets=False,
        label_weight=0.0,
        teacher_outputs="auto",
        include_student_losses=True,
        teacher_input_spec=None,
        student_input_spec=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if teacher_outputs not in TEACHER_OUTPUTS:
            raise ValueError(
                f"teacher_outputs must be one of {TEACHER_OUTPUTS}, got {teacher_outputs!r}."
            )
        if label_weight < 0:
            raise ValueError(f"label_weight must be >= 0, got {label_weight}.")
        for role, model in (("teacher", teacher), ("student", student)):
            if not isinstance(model, keras.Model):
                raise ValueError(f"{role} must be a keras.Model, got {type(model).__name__}: load a file or name "
                                 "with aip_keras.teachers.load_teacher(...) first.")
        teacher_classes = num_classes(teacher, "teacher")
        student_classes = num_classes(student, "student")
        if teacher_classes != student_classes:
            raise ValueError(
                f"teacher predicts {teacher_classes} classes but student predicts "
                f"{student_classes}: build the student with num_classes={teacher_classes}."
            )
        self.teacher = teacher
        self.teacher.trainable = False
        self.student = student
        self.num_classes = teacher_classes
        self.loss_fn = DistillationLoss(
            temperature=temperature,
            scale_by_temperature_squared=scale_by_temperature_squared,
            hard_targets=hard_targets,
        )
        self.label_weight = float(label_weight)
        self.teacher_outputs = teacher_outputs
        self.teacher_gives_probabilities = (
            output_kind(teacher) == "probabilities"
            if teacher_outputs == "auto"
            else teacher_outputs == "probabilities"
        )
        self.include_student_losses = bool(include_student_losses)
        self.teacher_input_spec = _resolve_spec(teacher_input_spec, teacher)
        self.student_input_spec = _resolve_spec(student_input_spec, student)
        self.agreement = keras.metrics.Mean(name="agreement")
        # Teacher and student arrive built and the input views hold no
        # weights, so the Distiller is ready (BackupAndRestore requires it).
        self.built = bool(teacher.built and student.built)

    @property
    def temperature(self):
        return self.loss_fn.temperature

    def call(self, x, training=False):
        return self.student(self.student_input_spec(x), training=training)

    def teacher_logits(self, x):
        """The teacher's logits for a [0, 1] batch, never in training mode."""
        outputs = self.teacher(self.teacher_input_spec(x), training=False)
        outputs = ops.cast(outputs, "float32")
        if self.teacher_gives_probabilities:
            outputs = probabilities_to_logits(outputs)
        return ops.stop_gradient(outputs)

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        """`keras.Model.compile` without `loss`: the distillation loss is set by the constructor.

        Raises:
            ValueError: a `loss` was given (it would be silently unused).
        """
        if loss is not None:
            raise ValueError(
                f"Distiller.compile got loss={loss!r}, but its loss is the distillation loss set in the "
                "constructor (temperature, scale_by_temperature_squared, hard_targets, label_weight): drop loss=."
            )
        super().compile(optimizer=optimizer, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_logits = self.teacher_logits(x)
        y_pred = ops.cast(y_pred, "float32")
        loss = self.loss_fn(teacher_logits, y_pred, sample_weight=sample_weight)
        if y is not None and self.label_weight > 0:
            ce = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
            loss = loss + self.label_weight * _distributed_mean(ce)
        if self.include_student_losses and self.student.losses:
            regularization = ops.sum([ops.cast(v, "float32") for v in self.student.losses])
            loss = loss + regularization / _num_replicas()
        agree = ops.cast(
            ops.equal(ops.argmax(teacher_logits, -1), ops.argmax(y_pred, -1)), "float32"
        )
        self.agreement.update_state(agree)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if y is None:  # x-only batch: nothing to compare compiled metrics with
            return self.get_metrics_result()
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def get_metrics_result(self):
        # Compiled metrics are built by the first labelled batch; until then
        # (x-only training) they have no result to report.
        results = {}
        for metric in self.metrics:
            if not getattr(metric, "built", True):
                continue
            result = metric.result()
            results.update(result if isinstance(result, dict) else {metric.name: result})
        return results

    def build(self, input_shape):
        self.built = True

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, stopping with a clear error on a non-finite loss."""
        callbacks = list(callbacks or [])
        if not any(isinstance(c, StopOnNonFiniteLoss) for c in callbacks):
            callbacks.append(StopOnNonFiniteLoss())
        data = args[0] if args else kwargs.get("x")
        if isinstance(data, tf.data.Dataset):  # streams shuffle themselves; Keras warns about shuffle=True
            kwargs.setdefault("shuffle", False)
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            teacher=keras.saving.serialize_keras_object(self.teacher),
            student=keras.saving.serialize_keras_object(self.student),
            temperature=self.loss_fn.temperature,
            scale_by_temperature_squared=self.loss_fn.scale_by_temperature_squared,
            hard_targets=self.loss_fn.hard_targets,
            label_weight=self.label_weight,
            teacher_outputs=self.teacher_outputs,
            include_student_losses=self.include_student_losses,
            teacher_input_spec=keras.saving.serialize_keras_object(self.teacher_input_spec),
            student_input_spec=keras.saving.serialize_keras_object(self.student_input_spec),
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("teacher", "student", "teacher_input_spec", "student_input_spec"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)


def _resolve_spec(spec, model):
    if isinstance(spec, InputSpec):
        return spec
    if isinstance(spec, dict):
        return InputSpec(**spec)
    if spec is not None:
        raise ValueError(f"input spec must be an InputSpec or a dict, got {type(spec).__name__}.")
    try:
        return spec_for_model(model)
    except ValueError:  # not an image model (e.g. audio): feed the batch as it is
        return InputSpec()


def _num_replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def _distributed_mean(values):
    """Per-replica batch mean, scaled so summed replica gradients average."""
    return ops.mean(values) / _num_replicas()
