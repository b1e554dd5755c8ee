"""Distillation losses: KL between softened teacher and student outputs."""

import keras
from keras import ops


def teacher_targets(teacher_logits, temperature=8.0, hard=False):
    """The distribution the student is trained to match.

    Args:
        teacher_logits: `(batch, classes)` teacher logits.
        temperature: softening temperature tau (> 0).
        hard: if True, a one-hot of the teacher's argmax instead of its
            softened distribution.

    Returns:
        `(batch, classes)` probabilities.
    """
    if hard:
        num_classes = ops.shape(teacher_logits)[-1]
        return ops.one_hot(ops.argmax(teacher_logits, axis=-1), num_classes)
    return ops.softmax(teacher_logits / temperature, axis=-1)


def probabilities_to_logits(probabilities, epsilon=1e-7):
    """Logits whose softmax is `probabilities`: `log(p)`, clipped away from 0.

    softmax(log p) = p exactly, and softmax(log p / tau) = p^(1/tau) normalised,
    which is what a logits teacher softened at tau gives. Clipping only matters
    for probabilities below `epsilon`.
    """
    return ops.log(ops.clip(probabilities, epsilon, 1.0))


@keras.saving.register_keras_serializable(package="aip_keras")
class DistillationLoss(keras.losses.Loss):
    """KL(softmax(z_T / tau) || softmax(z_S / tau)), summed over classes.

    Called as `loss(teacher_logits, student_logits)`: the teacher plays the
    role of `y_true`. The default reduction averages over the batch, and as a
    `keras.losses.Loss` it is scaled correctly under `tf.distribute`.

    Args:
        temperature: tau > 0 (the paper uses 8 for images, 5 for video).
        scale_by_temperature_squared: multiply by tau^2 (Hinton et al.). Off by
            default, as in the paper's code.
        hard_targets: use the teacher's argmax as a one-hot target (the loss is
            then the cross-entropy of the softened student against it).

    Example:

    >>> import numpy as np
    >>> loss = DistillationLoss(temperature=4.0)
    >>> float(loss(np.array([[2.0, 0.0]]), np.array([[2.0, 0.0]])))
    0.0
    """

    def __init__(
        self,
        temperature=8.0,
        scale_by_temperature_squared=False,
        hard_targets=False,
        name="distillation_loss",
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        temperature = float(temperature)
        if not temperature > 0:
            raise ValueError(
                f"temperature must be > 0, got {temperature}: use e.g. 8 (images) or 5 (video)."
            )
        self.temperature = temperature
        self.scale_by_temperature_squared = bool(scale_by_temperature_squared)
        self.hard_targets = bool(hard_targets)

    def call(self, teacher_logits, student_logits):
        teacher_logits = ops.cast(teacher_logits, "float32")
        student_logits = ops.cast(student_logits, "float32")
        targets = teacher_targets(teacher_logits, self.temperature, self.hard_targets)
        log_student = ops.log_softmax(student_logits / self.temperature, axis=-1)
        # xlogy-style: 0 * log 0 = 0, so one-hot and underflowing targets are
        # fine; NaN targets are not masked and make the loss NaN, as they should.
        log_targets = ops.log(ops.maximum(targets, 1e-30))
        terms = targets * (log_targets - log_student)
        kl = ops.sum(ops.where(targets == 0, 0.0, terms), axis=-1)
        if self.scale_by_temperature_squared:
            kl = kl * self.temperature**2
        return kl

    def get_config(self):
        config = super().get_config()
        config.update(
            temperature=self.temperature,
            scale_by_temperature_squared=self.scale_by_temperature_squared,
            hard_targets=self.hard_targets,
        )
        return config
