"""Tests for aip_keras.sources.audio_ops: every waveform op eagerly and inside tf.data, and what it does."""
import numpy as np
import pytest
import tensorflow as tf
from helpers import eager_and_mapped

from aip_keras.front_end import log_mel, tfio_audio
from aip_keras.sources import audio_ops

RATE = 8000


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return (rng.normal(0, 0.2, (4, 2000)) * np.hanning(2000)).astype(np.float32)


WAVE_OPS = {
    "time_shift": lambda x, s: audio_ops.time_shift(x, s, max_shift=300),
    "speed_perturb": lambda x, s: audio_ops.speed_perturb(x, s, speed=(0.8, 1.2)),
    "random_gain": lambda x, s: audio_ops.random_gain(x, s, gain_db=(-6.0, 6.0)),
    "mix": lambda x, s: audio_ops.mix(x, tf.reverse(x, [0]), s, p=1.0),
    "add_noise": lambda x, s: audio_ops.add_noise(x, s, p=1.0, snr_db=(10.0, 20.0)),
    "random_fade": lambda x, s: audio_ops.random_fade(x, s, p=1.0, max_fade=500),
    "peak_limit": lambda x, s: audio_ops.peak_limit(x * 10.0),
    "random_pad": lambda x, s: audio_ops.random_pad(x, s, p=1.0, min_keep=200, max_keep=1500, ramp=20),
    "waveform_freq_mask": lambda x, s: audio_ops.waveform_freq_mask(x, s, RATE, max_width=8, count=2),
    "waveform_time_mask": lambda x, s: audio_ops.waveform_time_mask(x, s, max_width=300, count=2),
}


@pytest.mark.parametrize("name", sorted(WAVE_OPS))
def test_waveform_ops_eager_equals_tf_data_map(batch, name):
    op = WAVE_OPS[name]
    seed = tf.constant([3, 4], tf.int64)
    eager, mapped = eager_and_mapped(op, batch, seed)
    assert eager.shape == batch.shape and eager.dtype == np.float32
    np.testing.assert_allclose(eager, mapped, atol=1e-5)
    np.testing.assert_allclose(op(tf.constant(batch), seed).numpy(), eager)  # same seed, same result
    if name != "peak_limit":
        assert not np.allclose(eager, batch)
        assert not np.allclose(op(tf.constant(batch), tf.constant([5, 6], tf.int64)).numpy(), eager)
    one = op(tf.constant(batch[0]), seed).numpy()  # one unbatched example works too
    assert one.shape == batch.shape[1:]


def test_time_shift_moves_samples(batch):
    out = audio_ops.time_shift(batch, tf.constant([1, 2], tf.int64), max_shift=300).numpy()
    for row, src in zip(out, batch):
        shifts = [s for s in range(-300, 301) if np.allclose(row, np.roll(src, s) * _valid(s, len(src)))]
        assert len(shifts) == 1


def _valid(shift, n):
    keep = np.ones(n, np.float32)
    if shift > 0:
        keep[:shift] = 0
    elif shift < 0:
        keep[shift:] = 0
    return keep


def test_silence_padding_keeps_one_segment(batch):
    out = audio_ops.random_pad(batch, tf.constant([1, 1], tf.int64), p=1.0, min_keep=400, max_keep=800, ramp=1).numpy()
    for row, src in zip(out, batch):
        kept = np.flatnonzero(row)
        assert 400 <= kept[-1] - kept[0] + 1 <= 800
        np.testing.assert_allclose(row[kept[0]:kept[-1] + 1], src[kept[0]:kept[-1] + 1], atol=1e-6)


def test_waveform_masks_hit_the_log_mel():
    x = np.random.default_rng(4).normal(0, 0.1, (4, 16000)).astype(np.float32)
    seed = tf.constant([2, 3], tf.int64)
    drop = log_mel(x).numpy() - log_mel(audio_ops.waveform_freq_mask(x, seed, 16000, 8, 2)).numpy()
    per_band = drop.mean(axis=1)  # (B, mels): dB lost per mel band
    hit = (per_band > 20).sum(-1)  # masks are U{0..8} bins wide: a row may draw two empty ones
    assert np.all(per_band > -0.5) and hit.sum() >= 4 and np.all(hit <= 16)
    timed = audio_ops.waveform_time_mask(x, seed, max_width=1600, count=2).numpy()
    assert np.all(((timed == 0) & (x != 0)).sum(-1) <= 3200) and ((timed == 0).sum(-1) > 0).any()


def test_gain_and_noise_levels(batch):
    seed = tf.constant([7, 8], tf.int64)
    gained = audio_ops.random_gain(batch, seed, gain_db=(-6.0, 6.0)).numpy()
    db = 20 * np.log10(np.abs(gained).sum(1) / np.abs(batch).sum(1))
    assert np.all((db >= -6.0 - 1e-4) & (db <= 6.0 + 1e-4))
    noisy = audio_ops.add_noise(batch, seed, p=1.0, snr_db=(10.0, 20.0)).numpy()
    snr = 10 * np.log10(np.mean(batch**2, 1) / np.mean((noisy - batch) ** 2, 1))
    assert np.all((snr > 9.0) & (snr < 21.0)), snr
    assert np.array_equal(audio_ops.add_noise(np.zeros_like(batch), seed, p=1.0).numpy(), np.zeros_like(batch))


@pytest.mark.parametrize("mode", audio_ops.FADE_MODES)
def test_fade_matches_tensorflow_io(mode):
    x = np.random.default_rng(1).uniform(-1, 1, 1000).astype(np.float32)
    for fade_in, fade_out in ((0, 0), (1, 1), (100, 250), (1000, 3)):
        reference = tfio_audio().fade(tf.constant(x), fade_in=fade_in, fade_out=fade_out, mode=mode).numpy()
        eager, mapped = eager_and_mapped(lambda v: audio_ops.fade(v, fade_in, fade_out, mode), x)
        np.testing.assert_allclose(eager, reference, atol=1e-6)
        np.testing.assert_allclose(mapped, reference, atol=1e-6)


def test_speed_one_is_identity_and_crops_are_slices():
    x = np.random.default_rng(2).normal(size=(3, 500)).astype(np.float32)
    np.testing.assert_allclose(audio_ops.speed_perturb(x, 0, speed=(1.0, 1.0)).numpy(), x, atol=1e-6)
    clip = np.arange(5000, dtype=np.float32)
    crops = audio_ops.random_crops(clip, 6, 100, seed=0).numpy()
    assert np.all(np.diff(crops, axis=1) == 1.0)  # contiguous runs of the clip
    fast = audio_ops.random_crops(clip, 6, 100, seed=0, speed=(1.2, 1.2)).numpy()
    np.testing.assert_allclose(np.diff(fast, axis=1), 1.2, atol=1e-3)
    with pytest.raises(ValueError, match="fewer than one crop"):
        audio_ops.random_crops(clip[:50], 2, 100, seed=0)


def test_value_range():
    assert audio_ops.value_range((1, 2), "speed") == (1.0, 2.0)
    with pytest.raises(ValueError, match="speed range .* is invalid"):
        audio_ops.value_range((0.0, 1.0), "speed", low=1e-3)
    with pytest.raises(ValueError, match="gain_db range"):
        audio_ops.value_range((3.0, -3.0), "gain_db")
