"""Batched waveform augmentations: float32 `(batch, samples)` in, the same shape out, stateless seeds.

Every op runs eagerly or inside `tf.data.Dataset.map`, takes one unbatched
`(samples,)` example too, and draws its randomness from a stateless seed
(an int or a shape-[2] tensor, see `aip_keras.front_end.audio_seed`): the same
seed gives the same output. `AudioChain` (`aip_keras.sources.audio`) chains
them per batch of crops; `supervised_augmentation` there uses a few for
labelled sets.

    from aip_keras.sources import audio_ops
    y = audio_ops.time_shift(x, seed=0, max_shift=1600)
"""

import math

import numpy as np
import tensorflow as tf

from aip_keras.front_end import audio_seed, batched, check_mask, check_rate, random_masks, split_seed

FADE_MODES = ("linear", "logarithmic", "exponential")
"""The fade curves of `fade` (tensorflow-io's)."""


def _waveform_op(fn):
    fn.rank, fn.shape_text = 2, "(batch, samples) waveforms"
    return batched(fn)


def value_range(value, what, low=-math.inf):
    """A `(low, high)` pair as floats; raises a one-line ValueError unless `low` (the bound) <= low <= high."""
    lo, hi = (float(v) for v in value)
    if not low <= lo <= hi:
        raise ValueError(f"{what} range ({lo:g}, {hi:g}) is invalid: pass (low, high) with {low:g} <= low <= high")
    return lo, hi


def _uniform(seed, shape, lo, hi):
    return tf.random.stateless_uniform(shape, seed, minval=lo, maxval=hi)


def _coin(seed, batch, p):
    return tf.random.stateless_uniform([batch], seed) < p


def _rms(x):
    return tf.sqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True))


def read_at_speed(clip, offsets, factors, length):
    """Reads `length` samples from `clip` at `offsets`, `factors` x normal speed.

    Output sample `t` of row `b` is `clip[offsets[b] + factors[b] * t]`, linearly
    interpolated; positions past the end read 0 (the clip itself is never copied).

    Args:
        clip: float32 `(N,)`.
        offsets: int32 `(B,)` start samples.
        factors: float32 `(B,)` speed factors (> 1 is faster and higher).
        length: output samples per row.

    Returns:
        float32 `(B, length)`.
    """
    clip = tf.convert_to_tensor(clip, tf.float32)
    n = tf.shape(clip)[0]
    t = tf.range(length, dtype=tf.float32)
    pos = factors[:, None] * t[None, :]  # small: exact enough in float32
    base = tf.floor(pos)
    frac = pos - base
    index = tf.cast(offsets, tf.int32)[:, None] + tf.cast(base, tf.int32)

    def read(i):
        return tf.where((i >= 0) & (i < n), tf.gather(clip, tf.clip_by_value(i, 0, n - 1)), 0.0)

    left, right = read(index), read(index + 1)
    return left + frac * (right - left)


def random_crops(clip, num, length, seed, speed=(1.0, 1.0)):
    """`num` random crops of `length` samples of `clip`, each at a random speed.

    Speed factors are log-uniform in `speed`; each crop reads
    `ceil(factor * length)` samples starting at a uniform random offset.

    Raises:
        ValueError (eagerly, when the clip length is known): the clip is shorter
            than one crop at the fastest speed.

    Example:

    >>> random_crops(np.random.rand(1000).astype("float32"), 4, 100, seed=0).shape
    TensorShape([4, 100])
    """
    lo, hi = value_range(speed, "speed", low=1e-3)
    clip = tf.convert_to_tensor(clip, tf.float32)
    need = int(math.ceil(hi * length)) + 1
    if clip.shape[0] is not None and clip.shape[0] < need:
        raise ValueError(
            f"clip has {clip.shape[0]} samples, fewer than one crop of {length} samples at speed {hi:g} "
            f"({need}): pass a longer clip or a shorter crop"
        )
    s_speed, s_offset = split_seed(seed, 2)
    factors = tf.exp(_uniform(s_speed, [num], math.log(lo), math.log(hi)))
    span = tf.cast(tf.math.ceil(factors * length), tf.int32) + 1
    room = tf.cast(tf.shape(clip)[0] - span + 1, tf.float32)
    offsets = tf.cast(tf.floor(_uniform(s_offset, [num], 0.0, 1.0) * room), tf.int32)
    return read_at_speed(clip, offsets, factors, length)


@_waveform_op
def speed_perturb(x, seed, speed=(0.9, 1.1)):
    """Plays each clip at a log-uniform random speed in `speed`, about its centre.

    Tempo and pitch change together (linear interpolation); samples read from
    outside the clip are 0. For fixed-length labelled clips; single-clip
    crops get their speed in `random_crops` instead (no zeros).
    """
    lo, hi = value_range(speed, "speed", low=1e-3)
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    factors = tf.exp(_uniform(audio_seed(seed), [batch], math.log(lo), math.log(hi)))
    lf = tf.cast(length, tf.float32)
    t = tf.range(lf, dtype=tf.float32)
    centre = (lf - 1.0) / 2.0
    pos = centre + factors[:, None] * (t[None, :] - centre)
    base = tf.floor(pos)
    frac = pos - base
    index = tf.cast(base, tf.int32)
    valid_l = (index >= 0) & (index < length)
    valid_r = (index + 1 >= 0) & (index + 1 < length)
    left = tf.where(valid_l, tf.gather(x, tf.clip_by_value(index, 0, length - 1), batch_dims=1), 0.0)
    right = tf.where(valid_r, tf.gather(x, tf.clip_by_value(index + 1, 0, length - 1), batch_dims=1), 0.0)
    return left + frac * (right - left)


@_waveform_op
def time_shift(x, seed, max_shift):
    """Shifts each clip by a uniform random whole number of samples in [-max_shift, max_shift], zero-filled.

    Example:

    >>> time_shift(np.ones((2, 10), "float32"), seed=0, max_shift=3).shape
    TensorShape([2, 10])
    """
    max_shift = int(max_shift)
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0 samples, got {max_shift}: pass e.g. 1600")
    if max_shift == 0:
        return x
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    shift = tf.random.stateless_uniform([batch], audio_seed(seed), -max_shift, max_shift + 1, dtype=tf.int32)
    source = tf.range(length)[None, :] - shift[:, None]
    valid = (source >= 0) & (source < length)
    return tf.where(valid, tf.gather(x, tf.clip_by_value(source, 0, length - 1), batch_dims=1), 0.0)


@_waveform_op
def random_pad(x, seed, p=0.5, min_keep=3200, max_keep=None, ramp=160):
    """With probability `p` per clip, keeps a random segment and zeroes the rest (silence padding).

    The kept segment has U{min_keep..max_keep} samples (default max: the clip
    length) at a uniform random position, with linear ramps of `ramp` samples
    at its edges; the rest becomes 0.
    """
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    if int(min_keep) < 1 or (max_keep is not None and int(max_keep) < int(min_keep)):
        raise ValueError(f"keep range ({min_keep}, {max_keep}) samples is invalid: pass 1 <= min_keep <= max_keep")
    if int(ramp) < 0:
        raise ValueError(f"ramp must be >= 0 samples, got {ramp}: pass e.g. 160")
    s_p, s_keep, s_start = split_seed(seed, 3)
    high = length if max_keep is None else tf.minimum(int(max_keep), length)
    low = tf.minimum(int(min_keep), high)
    keep = tf.cast(tf.floor(_uniform(s_keep, [batch], 0.0, 1.0) * tf.cast(high - low + 1, tf.float32)), tf.int32) + low
    start = tf.cast(tf.floor(_uniform(s_start, [batch], 0.0, 1.0) * tf.cast(length - keep + 1, tf.float32)), tf.int32)
    t = tf.range(tf.cast(length, tf.float32))[None, :]
    begin = tf.cast(start, tf.float32)[:, None]
    end = tf.cast(start + keep, tf.float32)[:, None]
    r = float(max(int(ramp), 1))
    window = tf.clip_by_value((t - begin + 1.0) / r, 0.0, 1.0) * tf.clip_by_value((end - t) / r, 0.0, 1.0)
    return tf.where(_coin(s_p, batch, p)[:, None], x * window, x)


@_waveform_op
def random_gain(x, seed, gain_db=(-6.0, 6.0)):
    """Multiplies each clip by a gain uniform in `gain_db` decibels (no clipping)."""
    lo, hi = value_range(gain_db, "gain_db")
    db = _uniform(audio_seed(seed), [tf.shape(x)[0]], lo, hi)
    return x * tf.pow(10.0, db / 20.0)[:, None]


@_waveform_op
def mix(x, other, seed, p=0.5, gain_db=(-12.0, 0.0)):
    """With probability `p` per clip, adds `other` at a relative level U(`gain_db`) dB.

    `other` is a batch of the same shape (e.g. other crops of the same clip).
    The level is relative to the clip's RMS (`other` is scaled to the clip's
    RMS, then by the gain); a silent clip gets `other` at its own level.
    """
    lo, hi = value_range(gain_db, "mix gain_db")
    other = tf.convert_to_tensor(other, tf.float32)
    if other.shape.rank == 1:
        other = other[None]
    s_p, s_g = split_seed(seed, 2)
    batch = tf.shape(x)[0]
    gain = tf.pow(10.0, _uniform(s_g, [batch], lo, hi) / 20.0)[:, None]
    rms_x, rms_o = _rms(x), _rms(other)
    scale = tf.where(rms_x > 1e-6, rms_x / tf.maximum(rms_o, 1e-6), 1.0) * gain
    return tf.where(_coin(s_p, batch, p)[:, None], x + scale * other, x)


@_waveform_op
def add_noise(x, seed, p=0.5, snr_db=(10.0, 40.0)):
    """With probability `p` per clip, adds white Gaussian noise at an SNR uniform in `snr_db` dB.

    The SNR is relative to the clip's RMS, so silent clips stay silent.
    """
    lo, hi = value_range(snr_db, "snr_db")
    s_p, s_snr, s_noise = split_seed(seed, 3)
    batch = tf.shape(x)[0]
    snr = _uniform(s_snr, [batch], lo, hi)
    noise_rms = _rms(x) / tf.pow(10.0, snr / 20.0)[:, None]
    noise = tf.random.stateless_normal(tf.shape(x), s_noise) * noise_rms
    return tf.where(_coin(s_p, batch, p)[:, None], x + noise, x)


def _fade_curve(f, mode):
    if mode == "linear":
        return f
    if mode == "logarithmic":
        return tf.math.log1p(f) / math.log1p(1.0)
    if mode == "exponential":
        return tf.math.expm1(f) / math.expm1(1.0)
    raise ValueError(f"fade mode {mode!r} is unknown: use one of {', '.join(FADE_MODES)}")


@_waveform_op
def fade(x, fade_in, fade_out, mode="linear"):
    """Fades each clip in over `fade_in` and out over `fade_out` samples (per clip).

    The curves are tensorflow-io's (`tfio.audio.fade`): sample `t < fade_in`
    is scaled by `curve(t / (fade_in - 1))`, the last `fade_out` samples by
    `curve(1 - j / (fade_out - 1))`; `fade_in` / `fade_out` may be scalars or
    `(B,)` tensors, 0 means no fade (and, as in tfio, so does a fade-out of 1).
    """
    if mode not in FADE_MODES:
        raise ValueError(f"fade mode {mode!r} is unknown: use one of {', '.join(FADE_MODES)}")
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    fade_in = tf.broadcast_to(tf.cast(fade_in, tf.float32), [batch])[:, None]
    fade_out = tf.broadcast_to(tf.cast(fade_out, tf.float32), [batch])[:, None]
    t = tf.range(tf.cast(length, tf.float32))[None, :]
    last = tf.cast(length, tf.float32) - 1.0
    up = tf.clip_by_value(t / tf.maximum(fade_in - 1.0, 1.0), 0.0, 1.0)
    down = tf.clip_by_value((last - t) / tf.maximum(fade_out - 1.0, 1.0), 0.0, 1.0)
    up = tf.where(fade_in > 0, _fade_curve(up, mode), 1.0)
    down = tf.where(fade_out > 1, _fade_curve(down, mode), 1.0)  # tfio: a 1-sample fade-out is a no-op
    return x * up * down


@_waveform_op
def random_fade(x, seed, p=0.5, max_fade=1600, mode="linear"):
    """With probability `p` per clip, a fade in and a fade out of U{0..max_fade} samples each."""
    max_fade = int(max_fade)
    if max_fade < 0:
        raise ValueError(f"max_fade must be >= 0 samples, got {max_fade}: pass e.g. 1600")
    s_p, s_len = split_seed(seed, 2)
    batch = tf.shape(x)[0]
    lengths = tf.random.stateless_uniform([2, batch], s_len, 0, max_fade + 1, dtype=tf.int32)
    on = tf.cast(_coin(s_p, batch, p), tf.int32)
    return fade.__wrapped__(x, lengths[0] * on, lengths[1] * on, mode)


@_waveform_op
def peak_limit(x):
    """Scales clips whose peak exceeds 1 down to peak 1 (others unchanged)."""
    peak = tf.reduce_max(tf.abs(x), axis=-1, keepdims=True)
    return x / tf.maximum(peak, 1.0)


def _hz_to_mel(f):
    return 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)


@_waveform_op
def waveform_freq_mask(x, seed, sample_rate, max_width=8, count=2, p=1.0, num_mels=64, fmin=20.0, fmax=None):
    """SpecAugment frequency masks done on the waveform: zeroes the FFT bins of random mel bands.

    With probability `p` per clip, `count` bands of U{0..max_width} mel bins
    (of a `num_mels`-bin HTK mel scale from `fmin` to `fmax`, the front end's)
    are removed: every FFT bin of the whole clip whose frequency falls in a
    masked band is set to 0 (`tf.signal.rfft` / `irfft`).
    """
    max_width, count = check_mask(max_width, count, "waveform_freq_mask")
    if max_width == 0 or count == 0:
        return x
    rate = check_rate(sample_rate)
    fmax = rate / 2.0 if fmax is None else float(fmax)
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    s_p, s_mask = split_seed(seed, 2)
    masked_bands = random_masks(s_mask, batch, num_mels, max_width, count)  # (B, mels)
    lo, hi = _hz_to_mel(fmin), _hz_to_mel(fmax)
    step = (hi - lo) / (num_mels + 1)  # band k is centred on lo + (k + 1) * step
    nbins = length // 2 + 1
    freqs = tf.cast(tf.range(nbins), tf.float64) * (rate / tf.cast(length, tf.float64))
    mel = 1127.0 * tf.math.log1p(freqs / 700.0)
    band = tf.cast(tf.round((mel - lo) / step), tf.int32) - 1
    inside = (band >= 0) & (band < num_mels)
    hit = tf.gather(masked_bands, tf.clip_by_value(band, 0, num_mels - 1), axis=1) & inside[None, :]
    hit = hit & _coin(s_p, batch, p)[:, None]
    spectrum = tf.signal.rfft(x)
    spectrum = tf.where(hit, tf.zeros_like(spectrum), spectrum)
    return tf.signal.irfft(spectrum, fft_length=[length])


@_waveform_op
def waveform_time_mask(x, seed, max_width=1600, count=2, p=1.0):
    """SpecAugment time masks done on the waveform: `count` spans of U{0..max_width} samples set to 0 (prob. `p`)."""
    max_width, count = check_mask(max_width, count, "waveform_time_mask")
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    s_p, s_mask = split_seed(seed, 2)
    hit = random_masks(s_mask, batch, length, max_width, count) & _coin(s_p, batch, p)[:, None]
    return tf.where(hit, 0.0, x)
