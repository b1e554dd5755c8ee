"""Callbacks Keras does not have: a clear stop on a non-finite loss, a time budget."""

import math
import time

import keras


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `FloatingPointError` naming the epoch and step of a NaN/inf loss.

    `keras.callbacks.TerminateOnNaN` stops quietly and `fit` returns as if it
    had finished; a distillation run must instead fail loudly so no student
    trained into NaNs is ever saved.
    """

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True
            raise FloatingPointError(
                f"non-finite loss ({loss}) at epoch {getattr(self, '_epoch', 0) + 1}, "
                f"step {batch + 1}: lower the learning rate or check the teacher's outputs."
            )


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `seconds` of wall time have passed (checked per step).

    Minute-scale CPU budgets are how experiments here are compared; the epoch
    in progress is cut short, so the student seen at the end is the one after
    exactly the budget.
    """

    def __init__(self, seconds):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"time budget must be > 0 seconds, got {seconds}.")
        self.seconds = float(seconds)
        self.exhausted = False

    def on_train_begin(self, logs=None):
        self._start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self._start >= self.seconds:
            self.exhausted = True
            self.model.stop_training = True
