"""Tests for aip_keras.jobs on images through the Python API (the `aip` command is tested in test_cli.py, the
audio and video jobs in test_jobs_audio.py and test_jobs_video.py; `tiny_teacher` is in conftest.py)."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import assert_one_line_error

from aip_keras import InputSpec, jobs, models
from aip_keras.config import REAL_TRAIN, DistillConfig


def test_interrupted_distillation_resumes_from_last_epoch(tiny_teacher, tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt("simulated crash after epoch 1")

    config = DistillConfig(teacher=str(tiny_teacher), epochs=2, patches_per_epoch=256,
                                batch_size=64, val_limit=128, eval_limit=256)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        jobs.run_distillation(config, out, verbose=0, callbacks=[Interrupt()])
    assert (out / "backup").exists() and not (out / "student.keras").exists()
    result = jobs.run_distillation(config, out, verbose=0)
    epochs = [int(line.split(",")[0]) for line in (out / "history.csv").read_text().splitlines()[1:]]
    assert epochs[-1] == 1 and epochs.count(1) == 1
    assert result["samples_seen"] == 2 * 4 * 64  # not 3 epochs: epoch 1 was not redone


def test_time_budget_stops_the_run_and_is_recorded(tiny_teacher, tmp_path):
    config = DistillConfig(teacher=str(tiny_teacher), epochs=2, patches_per_epoch=256, batch_size=64,
                           val_limit=128, eval_limit=256, time_budget_minutes=1e-4)  # 6 ms: spent by step 1
    result = jobs.run_distillation(config, tmp_path / "run", verbose=0)
    assert result["stopped_by_time_budget"] is True
    assert result["samples_seen"] == 64  # one step, not 2 epochs x 4 steps
    assert (tmp_path / "run" / "student.keras").exists() and result["metrics"]["num_examples"] == 256


def test_image_stream_from_the_patch_chain_and_a_patch_bank():
    for extra, channels in (({}, 3), ({"patch_bank": 24}, 1)):
        config = DistillConfig(source="astronaut", batch_size=8, seed=0, **extra)
        batches = list(jobs.image_stream(config, 16, channels).take(3))
        for batch in batches:
            x = batch.numpy()
            assert x.shape == (8, 16, 16, channels) and x.dtype == np.float32
            assert 0.0 <= x.min() and x.max() <= 1.0
        assert not np.array_equal(batches[0].numpy(), batches[1].numpy())  # endless, not one batch repeated


def test_image_stream_real_train_needs_the_teacher_channels():
    config = DistillConfig(source=REAL_TRAIN, eval="fashion_mnist", batch_size=8)
    x = next(iter(jobs.image_stream(config, 28, 1))).numpy()
    assert x.shape == (8, 28, 28, 1) and 0.0 <= x.min() and x.max() <= 1.0
    with pytest.raises(ValueError) as excinfo:
        jobs.image_stream(config, 28, 3)
    assert_one_line_error(excinfo, "training images are", "use a teacher with fashion_mnist's channels")


def test_compiled_distiller_follows_the_config():
    teacher, student = models.build("tiny_cnn", (16, 16, 3), 4), models.build("tiny_cnn", (16, 16, 3), 4)
    spec = InputSpec(value_range=(0, 255))
    config = DistillConfig(temperature=3.0, tau_squared=True, hard_targets=True, include_student_losses=False,
                           optimizer="sgd", learning_rate=0.05, schedule="cosine")
    distiller = jobs.compiled_distiller(config, teacher, student, spec, total_steps=10)
    assert distiller.teacher is teacher and distiller.student is student and distiller.teacher_input_spec is spec
    assert distiller.loss_fn.temperature == 3.0 and distiller.loss_fn.scale_by_temperature_squared
    assert distiller.loss_fn.hard_targets and not distiller.include_student_losses
    assert isinstance(distiller.optimizer, keras.optimizers.SGD)
    schedule = distiller.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay) and schedule.decay_steps == 10
    x = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    logs = distiller.evaluate(x, np.arange(8) % 4, verbose=0, return_dict=True)
    assert 0.0 <= logs["accuracy"] <= 1.0  # labelled validation gets the accuracy metric


def test_supervised_augmentation_keeps_labels_shape_and_range():
    apply = jobs.supervised_augmentation((12, 12), seed=0)
    x = np.random.default_rng(0).random((6, 12, 12, 1), dtype=np.float32)
    y = np.arange(6, dtype=np.int32)
    xa, ya = apply(tf.constant(x), tf.constant(y))
    assert xa.shape == x.shape and 0.0 <= float(tf.reduce_min(xa)) and float(tf.reduce_max(xa)) <= 1.0
    np.testing.assert_array_equal(ya.numpy(), y)
    mapped_x, mapped_y = next(iter(tf.data.Dataset.from_tensors((x, y)).map(apply)))
    assert mapped_x.shape == x.shape
    np.testing.assert_array_equal(mapped_y.numpy(), y)


def test_inference_copy_has_the_weights_and_no_optimizer_state(tmp_path):
    model = models.build("tiny_cnn", (12, 12, 1), 3)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).random((8, 12, 12, 1), dtype=np.float32)
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    copy = jobs.inference_copy(model)
    assert copy is not model and int(model.optimizer.iterations.numpy()) == 1
    assert not copy.compiled and getattr(copy, "optimizer", None) is None  # no optimizer state is saved with it
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "trained.keras")
    copy.save(tmp_path / "copy.keras")
    assert (tmp_path / "copy.keras").stat().st_size < 0.6 * (tmp_path / "trained.keras").stat().st_size


def test_environment_names_versions_and_machine():
    env = jobs.environment()
    assert set(env) == {"machine", "python", "tensorflow", "keras", "git_commit"}
    assert env["tensorflow"] == tf.__version__ and env["keras"] == keras.__version__
    assert env["machine"] and isinstance(env["git_commit"], str)
