import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from aip_keras import Distiller, InputSpec
from aip_keras.losses import DistillationLoss


def _classifier(size=8, channels=3, classes=4, softmax=False, l2=0.0, name=None):
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                            kernel_regularizer=keras.regularizers.L2(l2) if l2 else None)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, activation="softmax" if softmax else None)(x)
    return keras.Model(inputs, outputs, name=name)


def _images(n=32, size=8, channels=3, seed=0):
    return np.random.default_rng(seed).random((n, size, size, channels), dtype="float32")


def test_label_free_fit_lowers_the_loss():
    d = Distiller(_classifier(), _classifier(), temperature=1.0)
    d.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = _images(64)
    history = d.fit(x, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert "agreement" in history.history


def test_fit_x_only_with_labelled_validation_and_metrics():
    teacher = _classifier()
    d = Distiller(teacher, _classifier(), temperature=4.0)
    d.compile(optimizer="adam", metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    x_val = _images(24, seed=1)
    y_val = np.argmax(teacher.predict(x_val, verbose=0), -1)  # labels = teacher's: agreement == accuracy
    history = d.fit(_images(32), batch_size=8, epochs=1, validation_data=(x_val, y_val), verbose=0)
    h = history.history
    for key in ("loss", "agreement", "val_loss", "val_accuracy", "val_top2", "val_agreement"):
        assert key in h, key
    np.testing.assert_allclose(h["val_accuracy"][-1], h["val_agreement"][-1], atol=1e-6)
    results = d.evaluate(x_val, y_val, return_dict=True, verbose=0)
    assert 0.0 <= results["accuracy"] <= 1.0


def test_call_and_predict_are_the_student():
    student = _classifier()
    d = Distiller(_classifier(), student)
    x = _images(4)
    np.testing.assert_allclose(d.predict(x, verbose=0), student.predict(x, verbose=0), rtol=1e-5)


def test_loss_value_is_the_kl_of_the_two_models():
    teacher, student = _classifier(), _classifier()
    d = Distiller(teacher, student, temperature=2.0)
    x = _images(8)
    loss = d.compute_loss(x=x, y_pred=d(x))
    expected = DistillationLoss(temperature=2.0)(teacher(x), student(x))
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-5)


def test_probability_teacher_is_detected_and_converted():
    logits_teacher = _classifier()
    probs_teacher = keras.Model(logits_teacher.input, keras.layers.Softmax()(logits_teacher.output))
    student = _classifier()
    x = _images(8)
    d_logits = Distiller(logits_teacher, student)
    d_probs = Distiller(probs_teacher, student)
    assert d_probs.teacher_gives_probabilities and not d_logits.teacher_gives_probabilities
    np.testing.assert_allclose(
        float(d_probs.compute_loss(x=x, y_pred=student(x))),
        float(d_logits.compute_loss(x=x, y_pred=student(x))),
        rtol=1e-4,
    )
    stated = Distiller(_classifier(), student, teacher_outputs="probabilities")
    assert stated.teacher_gives_probabilities


def test_student_regularisation_losses_switch():
    student = _classifier(l2=1.0)
    teacher = _classifier()
    x = _images(8)
    with_reg = Distiller(teacher, student, include_student_losses=True)
    without = Distiller(teacher, student, include_student_losses=False)
    y_pred = student(x)
    diff = float(with_reg.compute_loss(x=x, y_pred=y_pred)) - float(without.compute_loss(x=x, y_pred=y_pred))
    expected = float(sum(float(v) for v in student.losses))
    assert expected > 0
    np.testing.assert_allclose(diff, expected, rtol=1e-4)


def test_label_weight_adds_cross_entropy_only_with_labels():
    teacher, student = _classifier(), _classifier()
    d = Distiller(teacher, student, label_weight=0.5)
    x, y = _images(8), np.arange(8) % 4
    y_pred = student(x)
    ce = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True).numpy().mean()
    np.testing.assert_allclose(
        float(d.compute_loss(x=x, y=y, y_pred=y_pred)) - float(d.compute_loss(x=x, y_pred=y_pred)),
        0.5 * ce, rtol=1e-4)


def test_each_model_gets_its_own_input_view():
    teacher = _classifier(size=16, channels=3)
    student = _classifier(size=8, channels=1)
    d = Distiller(teacher, student,
                  teacher_input_spec=InputSpec(size=(16, 16), value_range=(0, 255), mean=[127.0] * 3, std=[64.0] * 3))
    assert d.student_input_spec.channels == 1
    d.compile(optimizer="adam")
    d.fit(_images(16, size=8), batch_size=8, epochs=1, verbose=0)
    x = _images(2, size=8)
    seen = d.teacher_input_spec(x).numpy()
    assert seen.shape == (2, 16, 16, 3) and seen.min() < -1.0


def test_class_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="teacher predicts 4 classes but student predicts 3"):
        Distiller(_classifier(classes=4), _classifier(classes=3))


def test_teacher_without_class_vector_is_refused():
    inputs = keras.Input((8, 8, 3))
    feature_map = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))
    with pytest.raises(ValueError, match="not a \\(batch, classes\\) vector"):
        Distiller(feature_map, _classifier())


def test_non_positive_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature must be > 0"):
        Distiller(_classifier(), _classifier(), temperature=0)


def test_non_finite_loss_stops_and_names_the_step():
    inputs = keras.Input((8, 8, 3))
    nan_teacher = keras.Model(inputs, keras.layers.Lambda(lambda t: keras.ops.log(-keras.ops.ones_like(t[:, 0, 0, :1])) * keras.ops.ones((1, 4)))(inputs))
    d = Distiller(nan_teacher, _classifier(), teacher_outputs="logits")
    d.compile(optimizer="adam")
    with pytest.raises(FloatingPointError, match="epoch 1, step 1"):
        d.fit(_images(16), batch_size=8, epochs=1, verbose=0)


def test_student_saved_alone_reloads(tmp_path):
    d = Distiller(_classifier(), _classifier(name="student"))
    d.compile(optimizer="adam")
    d.fit(_images(16), batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "student.keras"
    d.student.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    x = _images(4)
    np.testing.assert_allclose(again.predict(x, verbose=0), d.predict(x, verbose=0), rtol=1e-5)


def test_distiller_config_round_trip_and_full_save(tmp_path):
    d = Distiller(_classifier(), _classifier(), temperature=5.0, hard_targets=True, label_weight=0.25,
                  include_student_losses=False, student_input_spec=InputSpec(value_range=(-1, 1)))
    again = Distiller.from_config(d.get_config())
    assert again.temperature == 5.0 and again.loss_fn.hard_targets and again.label_weight == 0.25
    assert not again.include_student_losses and again.student_input_spec.value_range == (-1.0, 1.0)
    d.save(tmp_path / "distiller.keras")
    loaded = keras.saving.load_model(tmp_path / "distiller.keras")
    x = _images(3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), d.predict(x, verbose=0), rtol=1e-5)


def test_works_under_mirrored_strategy_on_two_logical_cpus():
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras
        from aip_keras import Distiller
        from aip_keras.losses import DistillationLoss
        def clf():
            i = keras.Input((8, 8, 3)); x = keras.layers.Flatten()(i)
            return keras.Model(i, keras.layers.Dense(4)(x))
        x = np.random.default_rng(0).random((32, 8, 8, 3), dtype="float32")
        y = np.arange(32) % 4
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        with strategy.scope():
            teacher, student = clf(), clf()
            d = Distiller(teacher, student, temperature=2.0)
            d.compile(optimizer=keras.optimizers.SGD(0.0), metrics=["accuracy"])
        ds = tf.data.Dataset.from_tensor_slices(x).batch(16)
        h = d.fit(ds, epochs=1, validation_data=(x, y), verbose=0).history
        expected = float(DistillationLoss(temperature=2.0)(teacher(x), student(x)))
        # lr 0: the reported loss must equal the single-device batch-mean KL
        assert abs(h["loss"][0] - expected) < 1e-4 * max(1, expected), (h, expected)
        assert "val_accuracy" in h and "val_agreement" in h
        print("MIRRORED_OK")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert "MIRRORED_OK" in out.stdout, out.stderr[-3000:]


def test_compile_refuses_a_loss_it_would_not_use():
    distiller = Distiller(_classifier(), _classifier())
    with pytest.raises(ValueError, match="drop loss=") as error:
        distiller.compile(optimizer="adam", loss="mse")
    assert "\n" not in str(error.value)
    distiller.compile(optimizer="adam", metrics=["accuracy"])  # without loss= it compiles


@pytest.mark.parametrize("teacher", [None, "teacher.keras"])
def test_a_teacher_that_is_not_a_model_is_a_one_line_error(teacher):
    with pytest.raises(ValueError, match="teacher must be a keras.Model, got"):
        Distiller(teacher, _classifier())
