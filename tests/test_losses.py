import numpy as np
import pytest

from aip_keras.losses import DistillationLoss, probabilities_to_logits


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _kl(p, q):
    return np.sum(np.where(p > 0, p * (np.log(np.maximum(p, 1e-30)) - np.log(q)), 0.0), -1)


T = np.array([[3.0, 1.0, -2.0], [0.5, 0.5, 4.0]], "float32")
S = np.array([[1.0, 2.0, 0.0], [-1.0, 0.0, 1.0]], "float32")


@pytest.mark.parametrize("tau", [1.0, 4.0, 8.0])
def test_kl_matches_hand_computation(tau):
    expected = _kl(_softmax(T / tau), _softmax(S / tau)).mean()
    got = float(DistillationLoss(temperature=tau)(T, S))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_first_row_by_hand():
    # tau = 1, row 0: p = softmax(3, 1, -2), q = softmax(1, 2, 0)
    p = np.exp([3.0, 1.0, -2.0]) / np.exp([3.0, 1.0, -2.0]).sum()
    q = np.exp([1.0, 2.0, 0.0]) / np.exp([1.0, 2.0, 0.0]).sum()
    by_hand = sum(p[i] * np.log(p[i] / q[i]) for i in range(3))
    got = float(DistillationLoss(temperature=1.0)(T[:1], S[:1]))
    np.testing.assert_allclose(got, by_hand, rtol=1e-5)


def test_tau_squared_switch():
    plain = float(DistillationLoss(temperature=4.0)(T, S))
    scaled = float(DistillationLoss(temperature=4.0, scale_by_temperature_squared=True)(T, S))
    np.testing.assert_allclose(scaled, 16.0 * plain, rtol=1e-5)


def test_hard_targets_is_cross_entropy_of_teacher_argmax():
    tau = 2.0
    q = _softmax(S / tau)
    expected = -np.log(q[np.arange(2), T.argmax(-1)]).mean()
    got = float(DistillationLoss(temperature=tau, hard_targets=True)(T, S))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_probability_teacher_converts_exactly():
    tau = 8.0
    probs = _softmax(T)
    from_probs = float(DistillationLoss(temperature=tau)(probabilities_to_logits(probs), S))
    from_logits = float(DistillationLoss(temperature=tau)(T, S))
    np.testing.assert_allclose(from_probs, from_logits, rtol=1e-4)


def test_zero_when_student_equals_teacher():
    assert abs(float(DistillationLoss()(T, T))) < 1e-6


@pytest.mark.parametrize("tau", [0.0, -1.0])
def test_non_positive_temperature_is_refused(tau):
    with pytest.raises(ValueError, match="temperature must be > 0"):
        DistillationLoss(temperature=tau)


def test_config_round_trip():
    loss = DistillationLoss(temperature=5.0, scale_by_temperature_squared=True, hard_targets=True)
    again = DistillationLoss.from_config(loss.get_config())
    assert (again.temperature, again.scale_by_temperature_squared, again.hard_targets) == (5.0, True, True)
