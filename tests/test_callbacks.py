"""Tests for aip_keras.callbacks: StopOnNonFiniteLoss fails loudly in one line, TimeBudget stops fit on a fake clock."""
import types

import keras
import numpy as np
import pytest
from helpers import assert_one_line_error

from aip_keras import callbacks
from aip_keras.callbacks import StopOnNonFiniteLoss, TimeBudget


def _model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model


def _data(n=64):
    x = np.random.default_rng(0).random((n, 3), dtype=np.float32)
    return x, x.sum(-1, keepdims=True)


def test_non_finite_loss_raises_one_line_naming_epoch_and_step():
    model = _model()
    x, y = _data()
    x[20] = np.nan  # batch 3 (of 8) of the first epoch
    with pytest.raises(FloatingPointError) as excinfo:
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[StopOnNonFiniteLoss()])
    assert_one_line_error(excinfo, "non-finite loss (nan) at epoch 1, step 3", "lower the learning rate")
    assert model.stop_training


def test_non_finite_loss_checks_each_step_directly():
    stop = StopOnNonFiniteLoss()
    stop.set_model(_model())
    stop.on_train_batch_end(0, {})  # no loss logged: nothing to check
    stop.on_epoch_begin(2)
    stop.on_train_batch_end(3, {"loss": 0.25})
    assert not stop.model.stop_training
    with pytest.raises(FloatingPointError) as excinfo:
        stop.on_train_batch_end(4, {"loss": float("inf")})
    assert_one_line_error(excinfo, "non-finite loss (inf) at epoch 3, step 5")
    assert stop.model.stop_training


def test_finite_losses_train_to_the_end():
    model = _model()
    history = model.fit(*_data(), batch_size=8, epochs=2, verbose=0, callbacks=[StopOnNonFiniteLoss()])
    assert len(history.history["loss"]) == 2 and int(model.optimizer.iterations.numpy()) == 16


class _FakeClock:
    """`time.monotonic` for the callbacks module; a `Tick` callback moves it on after each step."""

    def __init__(self, seconds_per_step):
        self.now, self.seconds_per_step = 100.0, seconds_per_step

    def monotonic(self):
        return self.now

    def tick(self):
        outer = self

        class Tick(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                outer.now += outer.seconds_per_step

        return Tick()


def test_time_budget_stops_fit_after_its_budget(monkeypatch):
    clock = _FakeClock(seconds_per_step=4.0)
    monkeypatch.setattr(callbacks, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    model, budget = _model(), TimeBudget(10)
    history = model.fit(*_data(), batch_size=8, epochs=3, verbose=0, callbacks=[clock.tick(), budget])
    assert budget.exhausted and model.stop_training
    assert int(model.optimizer.iterations.numpy()) == 3  # 12 s >= 10 s after step 3, mid-epoch
    assert len(history.history["loss"]) == 1  # the later epochs never start


def test_time_budget_not_reached_changes_nothing(monkeypatch):
    clock = _FakeClock(seconds_per_step=0.5)
    monkeypatch.setattr(callbacks, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    model, budget = _model(), TimeBudget(60)
    model.fit(*_data(), batch_size=8, epochs=3, verbose=0, callbacks=[clock.tick(), budget])
    assert not budget.exhausted and int(model.optimizer.iterations.numpy()) == 24


@pytest.mark.parametrize("seconds", [0, -5, float("nan")])
def test_time_budget_must_be_positive(seconds):
    with pytest.raises(ValueError, match="time budget must be > 0 seconds") as excinfo:
        TimeBudget(seconds)
    assert "\n" not in str(excinfo.value)
