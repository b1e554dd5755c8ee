"""One long audio clip -> an endless, seeded stream of augmented crops; the log-mel front end.

The audio counterpart of `aip_keras.sources.image` (the paper reports audio
distillation from one clip but its public code has none). Waveforms between
stages are float32 in [-1, 1], mono, batched as `(batch, samples)`, at the
teacher's sample rate.

Loading (`load_clip`, `decode_audio`): WAV, FLAC, OGG/Vorbis, AIFF, MP3 ...
16-bit PCM WAV is decoded by `tf.audio.decode_wav`, everything else (8/24/32-bit
integer and float WAV, other containers) by `soundfile` (libsndfile).
Documented conversions: several channels are **down-mixed** by their mean;
another sample rate is **resampled once** with `scipy.signal.resample_poly`;
float files whose peak exceeds 1 are scaled by 1 / peak (with a warning).
Errors (one line): a missing, empty or non-audio file, a clip with no samples,
an all-silent clip (peak below `SILENCE_DBFS`), NaN/inf samples, and (in the
chain) a clip shorter than one crop.

Each crop of a batch is made by `AudioChain`, in order:

1. a random crop of `crop_seconds` read at a random **speed** factor
   (log-uniform in `speed`, default 0.9-1.1; linear interpolation, so tempo
   and pitch change together, as Kaldi/sox speed perturbation);
2. with probability `mix_p`, **mixing** in a second crop of the same clip at a
   relative level U(`mix_gain_db`) dB;
3. a **time shift** U(-`shift_seconds`, `shift_seconds`), zero-filled;
4. with probability `pad_p`, **silence padding**: only a random segment of
   U(`keep_seconds`) seconds is kept (10 ms ramps at its edges), the rest of the
   crop is digital silence, as in labelled sets of short words padded to 1 s
   (FSDD, Speech Commands);
5. with probability `fade_p`, a **fade** in and out of U(0, `fade_seconds`) each
   (tfio's fade curves: linear, logarithmic or exponential);
6. a **gain** U(`gain_db`) dB;
7. with probability `noise_p`, white Gaussian **noise** at an SNR U(`snr_db`) dB
   (over the whole crop, so padded silence gets the noise floor too);
8. with probability `mask_p`, **SpecAugment masks done on the waveform**, so
   that teacher and student see the same masked crop: `freq_masks` bands of
   U{0..`freq_width`} mel bins (of the 64-bin, 20 Hz - Nyquist front end)
   removed by zeroing their FFT bins, and `time_masks` spans of
   U(0, `time_width_seconds`) set to silence;
9. a peak limiter: a crop whose peak exceeds 1 is scaled down to peak 1.

SpecAugment proper (masks on the log-mel, `SpecAugment`) lives inside the
models and acts in training mode only: it is for supervised teacher training.
In distillation only the student runs in training mode, so those masks would
be seen by the student alone; that cut the FSDD accuracy of a student
distilled from speech from 0.44 to 0.21 in our ablation (8,192 crops), hence
the waveform versions above, which both networks see, and students built
without the layer (`jobs._audio_setup`).

The front end (`log_mel`, the `LogMel` layer) is power STFT (Hann window) ->
mel filterbank (HTK) -> dB, built from tensorflow-io's pure-Python audio
functions (`tfio.audio.spectrogram`, `tfio.audio.melscale`); only the final
top-dB floor is done here, per example (`tfio.audio.dbscale` takes the maximum
over the whole batch, which would make one example depend on the others).
tensorflow-io's compiled decoders and resampler do not load on TF 2.21 and are
not used. Layers here use TensorFlow ops (the package's backend).

All randomness is stateless: batch `b` of a stream with seed `s` depends only
on `(s, b, batch_size)`, never on threads or on what ran before.
"""

import io
import math
import os
import pathlib
import warnings

import keras
import numpy as np
import tensorflow as tf

DEFAULT_SAMPLE_RATE = 16000
"""The front end's and the sources' default rate (Speech Commands' rate)."""

CROPS_PER_EPOCH = 10_000
"""Default crops per "epoch" of a single-clip stream (how often validation runs)."""

NOISE = "noise"
"""Name of the white-noise control clip."""

NOISE_SECONDS = 60.0
"""Length of the white-noise control clip."""

SILENCE_DBFS = -80.0
"""A clip whose peak is below this level (dB re full scale) counts as silent."""

AUDIO_EXTENSIONS = (".aif", ".aiff", ".au", ".flac", ".mp3", ".oga", ".ogg", ".opus", ".wav")
"""File extensions read as audio by folder datasets."""

FADE_MODES = ("linear", "logarithmic", "exponential")

_TFIO_AUDIO = None


# --------------------------------------------------------------------------
# Decoding and loading
# --------------------------------------------------------------------------


def _tfio_audio():
    """`tensorflow_io.audio`, imported once with its plug-in load warnings silenced.

    On TF 2.21 the compiled plug-ins of tensorflow-io 0.37 fail to load (they
    warn on import); the pure-Python audio functions used here do not need them.
    """
    global _TFIO_AUDIO
    if _TFIO_AUDIO is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import tensorflow_io as tfio
        _TFIO_AUDIO = tfio.audio
    return _TFIO_AUDIO


def _one_line(text):
    return " ".join(str(text).split())


def _wav_format(data):
    """`(format_tag, bits_per_sample)` of a RIFF/WAVE byte string, or None if it is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if chunk == b"fmt " and size >= 16 and pos + 24 <= len(data):
            tag = int.from_bytes(data[pos + 8:pos + 10], "little")
            bits = int.from_bytes(data[pos + 22:pos + 24], "little")
            return tag, bits
        pos += 8 + size + (size & 1)
    return None


def decode_audio(data, what="audio data"):
    """Decodes an audio file's bytes to float32 `(frames, channels)` and its sample rate.

    16-bit PCM WAV goes through `tf.audio.decode_wav`; anything else libsndfile
    reads (8/24/32-bit integer or float WAV, FLAC, OGG, AIFF, MP3, ...) through
    `soundfile`. Integer samples are scaled to [-1, 1); float samples are kept.

    Args:
        data: the file's bytes.
        what: how to name the data in error messages (e.g. the file name).

    Returns:
        `(samples, rate)`: a float32 numpy array `(frames, channels)` and an int.

    Raises:
        ValueError: empty or unreadable data (one line, with the fix).

    Example:

    >>> import io, soundfile
    >>> buffer = io.BytesIO()
    >>> soundfile.write(buffer, np.zeros(800, "float32"), 8000, format="WAV", subtype="PCM_24")
    >>> samples, rate = decode_audio(buffer.getvalue())
    >>> samples.shape, rate
    ((800, 1), 8000)
    """
    if not data:
        raise ValueError(f"{what} is empty (0 bytes): pass a WAV, FLAC or OGG file with audio in it")
    fmt = _wav_format(data)
    if fmt == (1, 16):
        try:
            samples, rate = tf.audio.decode_wav(data)
            return samples.numpy(), int(rate.numpy())
        except tf.errors.InvalidArgumentError:
            pass  # an odd header tf cannot parse: libsndfile may
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError, EOFError) as error:  # LibsndfileError is a RuntimeError
        raise ValueError(
            f"{what} is not readable audio ({_one_line(error)}): pass a WAV, FLAC, OGG, AIFF or MP3 file"
        ) from None
    return np.asarray(samples, np.float32), int(rate)


def read_audio(path):
    """Reads an audio file: float32 `(frames, channels)` and its rate (see `decode_audio`).

    Raises:
        ValueError: a missing path, a folder, an empty or non-audio file.
    """
    p = pathlib.Path(path).expanduser()
    if not p.exists():
        raise ValueError(f"audio file {os.fspath(path)!r} does not exist: check the path (or use --source=noise)")
    if p.is_dir():
        raise ValueError(f"audio path {os.fspath(path)!r} is a directory: pass an audio file inside it")
    return decode_audio(p.read_bytes(), what=f"audio file {os.fspath(path)!r}")


def resample(samples, rate_in, rate_out):
    """Polyphase resampling (`scipy.signal.resample_poly`) along the first axis.

    The ratio is reduced by the greatest common divisor (8 kHz -> 16 kHz is
    up 2 / down 1; 44.1 kHz -> 16 kHz is up 160 / down 441).

    Example:

    >>> resample(np.zeros(8000, "float32"), 8000, 16000).shape
    (16000,)
    """
    rate_in, rate_out = int(rate_in), int(rate_out)
    if rate_in < 1 or rate_out < 1:
        raise ValueError(f"sample rates must be positive, got {rate_in} -> {rate_out}: pass rates in Hz")
    samples = np.asarray(samples, np.float32)
    if rate_in == rate_out:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(rate_in, rate_out)
    return resample_poly(samples, rate_out // g, rate_in // g, axis=0).astype(np.float32)


def to_mono(samples, rate, sample_rate, what="audio"):
    """Float `(frames[, channels])` at `rate` -> float32 mono at `sample_rate` in [-1, 1].

    Down-mixes channels by their mean, scales float data whose peak exceeds 1
    by 1 / peak (warning), resamples, and clips the resampler's overshoot to
    [-1, 1].

    Raises:
        ValueError: no samples, or NaN/inf samples.
    """
    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples.mean(axis=1, dtype=np.float64) if samples.shape[1] > 1 else samples[:, 0]
    elif samples.ndim != 1:
        raise ValueError(
            f"{what} has shape {samples.shape}, expected (samples,) or (samples, channels): pass one clip"
        )
    if samples.size == 0:
        raise ValueError(f"{what} has no samples (0 s of audio): pass a clip with sound in it")
    if np.issubdtype(samples.dtype, np.integer):
        info = np.iinfo(samples.dtype)
        samples = (samples.astype(np.float64) - (info.min + info.max + 1) / 2) / ((info.max - info.min + 1) / 2)
    samples = samples.astype(np.float32)
    if not np.all(np.isfinite(samples)):
        raise ValueError(f"{what} contains NaN or inf samples: pass finite samples in [-1, 1]")
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        warnings.warn(f"{what} peaks at {peak:.3g} (above full scale 1.0): scaled by 1/{peak:.3g}", stacklevel=3)
        samples = samples / peak
    samples = resample(samples, rate, sample_rate)
    return np.clip(samples, -1.0, 1.0)


def check_not_silent(samples, what="clip"):
    """Raises ValueError if the clip's peak is below `SILENCE_DBFS` (or it is empty)."""
    samples = np.asarray(samples)
    if samples.size == 0:
        raise ValueError(f"{what} has no samples (0 s of audio): pass a clip with sound in it")
    peak = float(np.max(np.abs(samples)))
    level = 20 * math.log10(peak) if peak > 0 else -math.inf
    if level < SILENCE_DBFS:
        raise ValueError(
            f"{what} is silent (peak {level:.0f} dBFS, below {SILENCE_DBFS:.0f} dBFS): "
            "pass a clip with sound in it (or use 'noise')"
        )


def load_clip(clip, sample_rate=DEFAULT_SAMPLE_RATE, seed=0):
    """Loads one clip as float32 mono samples at `sample_rate`, in [-1, 1].

    Args:
        clip: an audio file path; `"noise"` (`NOISE_SECONDS` of white Gaussian
            noise, standard deviation 0.1, seeded); a `(samples, rate)` pair;
            or an array already at `sample_rate` (`(samples,)` or
            `(samples, channels)`, float in [-1, 1] or integer PCM).
        sample_rate: the rate to return (the teacher's).
        seed: seed of the `"noise"` clip.

    Returns:
        A 1-D float32 numpy array.

    Raises:
        ValueError: one line naming the problem and the fix (missing, empty,
            non-audio or silent clip, NaN samples).

    Example:

    >>> load_clip("noise", sample_rate=8000).shape
    (480000,)
    >>> load_clip((np.ones((8000, 2), "float32") * 0.5, 8000), sample_rate=16000).shape
    (16000,)
    """
    sample_rate = _check_rate(sample_rate)
    if isinstance(clip, str) and clip == NOISE and not os.path.exists(clip):
        rng = np.random.default_rng(int(seed))
        n = int(round(NOISE_SECONDS * sample_rate))
        return np.clip(rng.normal(0.0, 0.1, n), -1.0, 1.0).astype(np.float32)
    if isinstance(clip, (str, os.PathLike)):
        what = f"audio file {os.fspath(clip)!r}"
        samples, rate = read_audio(clip)
    elif clip is None:
        raise ValueError("clip is None: pass an audio file path, 'noise', an array or (array, rate)")
    elif isinstance(clip, tuple) and len(clip) == 2 and np.ndim(clip[1]) == 0:
        what = "audio array"
        samples, rate = clip
    else:
        what = "audio array"
        samples, rate = clip, sample_rate
    mono = to_mono(samples, rate, sample_rate, what=what)
    check_not_silent(mono, what=what)
    return mono


def concatenate_clips(paths, out_path, sample_rate=None, gap_seconds=0.0):
    """Joins several audio files into one long mono 16-bit WAV clip.

    Made for turning many short recordings (e.g. Asterisk's 568 English speech
    prompts) into one single-source clip. Every file is down-mixed and
    resampled to `sample_rate` (default: the first file's rate); files are
    joined in the given order with `gap_seconds` of silence between them.
    The WAV is written atomically.

    Args:
        paths: audio file paths (any format `read_audio` reads).
        out_path: the WAV file to write.
        sample_rate: the output rate, or None for the first file's.
        gap_seconds: silence between consecutive files.

    Returns:
        `out_path` as a `pathlib.Path`.

    Example:

    >>> import tempfile, soundfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(2):
    ...     soundfile.write(folder / f"{i}.wav", np.full(800, 0.1, "float32"), 8000)
    >>> out = concatenate_clips([folder / "0.wav", folder / "1.wav"], folder / "all.wav")
    >>> soundfile.info(out).frames
    1600
    """
    from aip_keras import atomic
    import soundfile

    paths = [pathlib.Path(p) for p in paths]
    if not paths:
        raise ValueError("concatenate_clips got no files: pass a list of audio file paths")
    if gap_seconds < 0:
        raise ValueError(f"gap_seconds must be >= 0, got {gap_seconds}: pass e.g. 0.25")
    pieces = []
    for path in paths:
        samples, rate = read_audio(path)
        if sample_rate is None:
            sample_rate = rate
        pieces.append(to_mono(samples, rate, sample_rate, what=f"audio file {str(path)!r}"))
        if gap_seconds:
            pieces.append(np.zeros(int(round(gap_seconds * sample_rate)), np.float32))
    if gap_seconds:
        pieces.pop()
    out_path = pathlib.Path(out_path)
    with atomic.atomic_path(out_path) as tmp:
        soundfile.write(tmp, np.concatenate(pieces), int(sample_rate), format="WAV", subtype="PCM_16")
    return out_path


def _check_rate(sample_rate):
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or int(sample_rate) < 1000:
        raise ValueError(f"sample_rate must be an int >= 1000 Hz, got {sample_rate!r}: pass e.g. 16000")
    return int(sample_rate)


def fit_length(samples, length):
    """Centre-crops or symmetrically zero-pads a 1-D clip to `length` samples.

    Example:

    >>> fit_length(np.ones(3, "float32"), 5)
    array([0., 1., 1., 1., 0.], dtype=float32)
    """
    samples = np.asarray(samples, np.float32)
    n = len(samples)
    if n >= length:
        start = (n - length) // 2
        return samples[start:start + length]
    before = (length - n) // 2
    return np.pad(samples, (before, length - n - before))


# --------------------------------------------------------------------------
# Augmentations: batched float32 (B, L) waveforms, stateless seeds
# --------------------------------------------------------------------------


def _seed(seed):
    """An int or shape-[2] tensor -> int64 shape-[2] stateless seed."""
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed), 0x41554449], tf.int64)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank == 0:
        return tf.stack([tf.cast(seed, tf.int64), tf.constant(0x41554449, tf.int64)])
    return tf.cast(seed, tf.int64)


def _split(seed, n):
    return tf.unstack(tf.random.experimental.stateless_split(_seed(seed), n))


def _batched(fn):
    """Lets a `(B, L, ...)` function also take one unbatched example."""

    def wrapper(x, *args, **kwargs):
        x = tf.convert_to_tensor(x, tf.float32)
        if x.shape.rank == fn.rank - 1:
            return fn(x[None], *args, **kwargs)[0]
        if x.shape.rank != fn.rank:
            raise ValueError(
                f"{fn.__name__} needs a batch of rank {fn.rank} (or one example of rank {fn.rank - 1}), "
                f"got shape {tuple(x.shape)}: pass {fn.shape_text}"
            )
        return fn(x, *args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _waveform_op(fn):
    fn.rank, fn.shape_text = 2, "(batch, samples) waveforms"
    return _batched(fn)


def _spectrogram_op(fn):
    fn.rank, fn.shape_text = 3, "(batch, frames, mel bins) spectrograms"
    return _batched(fn)


def _range(value, what, low=-math.inf):
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
    lo, hi = _range(speed, "speed", low=1e-3)
    clip = tf.convert_to_tensor(clip, tf.float32)
    need = int(math.ceil(hi * length)) + 1
    if clip.shape[0] is not None and clip.shape[0] < need:
        raise ValueError(
            f"clip has {clip.shape[0]} samples, fewer than one crop of {length} samples at speed {hi:g} "
            f"({need}): pass a longer clip or a shorter crop"
        )
    s_speed, s_offset = _split(seed, 2)
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
    lo, hi = _range(speed, "speed", low=1e-3)
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    factors = tf.exp(_uniform(_seed(seed), [batch], math.log(lo), math.log(hi)))
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
    shift = tf.random.stateless_uniform([batch], _seed(seed), -max_shift, max_shift + 1, dtype=tf.int32)
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
    s_p, s_keep, s_start = _split(seed, 3)
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
    lo, hi = _range(gain_db, "gain_db")
    db = _uniform(_seed(seed), [tf.shape(x)[0]], lo, hi)
    return x * tf.pow(10.0, db / 20.0)[:, None]


@_waveform_op
def mix(x, other, seed, p=0.5, gain_db=(-12.0, 0.0)):
    """With probability `p` per clip, adds `other` at a relative level U(`gain_db`) dB.

    `other` is a batch of the same shape (e.g. other crops of the same clip).
    The level is relative to the clip's RMS (`other` is scaled to the clip's
    RMS, then by the gain); a silent clip gets `other` at its own level.
    """
    lo, hi = _range(gain_db, "mix gain_db")
    other = tf.convert_to_tensor(other, tf.float32)
    if other.shape.rank == 1:
        other = other[None]
    s_p, s_g = _split(seed, 2)
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
    lo, hi = _range(snr_db, "snr_db")
    s_p, s_snr, s_noise = _split(seed, 3)
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
    s_p, s_len = _split(seed, 2)
    batch = tf.shape(x)[0]
    lengths = tf.random.stateless_uniform([2, batch], s_len, 0, max_fade + 1, dtype=tf.int32)
    on = tf.cast(_coin(s_p, batch, p), tf.int32)
    return fade.__wrapped__(x, lengths[0] * on, lengths[1] * on, mode)


@_waveform_op
def peak_limit(x):
    """Scales clips whose peak exceeds 1 down to peak 1 (others unchanged)."""
    peak = tf.reduce_max(tf.abs(x), axis=-1, keepdims=True)
    return x / tf.maximum(peak, 1.0)


def _masks(seed, batch, size, max_width, count):
    """`(B, size)` bool: `count` masks of width U{0..max_width} at uniform starts."""
    if max_width == 0 or count == 0:
        return tf.zeros([batch, size], tf.bool)
    s_w, s_start = _split(seed, 2)
    width = tf.random.stateless_uniform([batch, count], s_w, 0, max_width + 1, dtype=tf.int32)
    width = tf.minimum(width, size)
    start = tf.cast(
        tf.floor(tf.random.stateless_uniform([batch, count], s_start) * tf.cast(size - width + 1, tf.float32)),
        tf.int32,
    )
    pos = tf.range(size)[None, None, :]
    hit = (pos >= start[..., None]) & (pos < (start + width)[..., None])
    return tf.reduce_any(hit, axis=1)


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
    max_width, count = _check_mask(max_width, count, "waveform_freq_mask")
    if max_width == 0 or count == 0:
        return x
    rate = _check_rate(sample_rate)
    fmax = rate / 2.0 if fmax is None else float(fmax)
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    s_p, s_mask = _split(seed, 2)
    masked_bands = _masks(s_mask, batch, num_mels, max_width, count)  # (B, mels)
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
    max_width, count = _check_mask(max_width, count, "waveform_time_mask")
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    s_p, s_mask = _split(seed, 2)
    hit = _masks(s_mask, batch, length, max_width, count) & _coin(s_p, batch, p)[:, None]
    return tf.where(hit, 0.0, x)


def _check_mask(max_width, count, what):
    if int(max_width) < 0 or int(count) < 0:
        raise ValueError(f"{what} width and count must be >= 0, got {max_width} and {count}: pass e.g. 8 and 2")
    return int(max_width), int(count)


@_spectrogram_op
def freq_mask(spec, seed, max_width=8, count=2, value=0.0):
    """SpecAugment frequency masks: `count` bands of U{0..max_width} mel bins set to `value`.

    `spec` is `(batch, frames, mels)` (or one `(frames, mels)`); each example
    gets its own bands (tfio's `freq_mask` draws one band for a single example).
    """
    max_width, count = _check_mask(max_width, count, "freq_mask")
    batch, mels = tf.shape(spec)[0], tf.shape(spec)[2]
    hit = _masks(_seed(seed), batch, mels, max_width, count)
    return tf.where(hit[:, None, :], tf.cast(value, spec.dtype), spec)


@_spectrogram_op
def time_mask(spec, seed, max_width=10, count=2, value=0.0):
    """SpecAugment time masks: `count` spans of U{0..max_width} frames set to `value`."""
    max_width, count = _check_mask(max_width, count, "time_mask")
    batch, frames = tf.shape(spec)[0], tf.shape(spec)[1]
    hit = _masks(_seed(seed), batch, frames, max_width, count)
    return tf.where(hit[:, :, None], tf.cast(value, spec.dtype), spec)


# --------------------------------------------------------------------------
# The crop chain and the stream
# --------------------------------------------------------------------------


class AudioChain:
    """Random crops of one clip plus the waveform augmentations, batch at a time.

    Runs eagerly or inside `tf.data.Dataset.map`; each batch is a pure
    function of the clip and a stateless seed. See the module docstring for
    the steps; every range is an argument here (set a probability to 0, or a
    range to one value, to switch a step off).

    Args:
        sample_rate: rate of the clip and of the crops (the teacher's).
        crop_seconds: crop length in seconds (the teacher's input length).
        speed: (low, high) speed factors, log-uniform.
        mix_p: probability of mixing in a second crop of the clip.
        mix_gain_db: its level relative to the first crop, dB.
        shift_seconds: largest time shift, seconds.
        pad_p: probability of silence padding around a shorter segment.
        keep_seconds: (low, high) length of that segment, seconds.
        fade_p: probability of a fade in and out.
        fade_seconds: longest fade, seconds.
        fade_mode: `"linear"`, `"logarithmic"` or `"exponential"`.
        gain_db: (low, high) gain in dB.
        noise_p: probability of additive white noise.
        snr_db: (low, high) signal-to-noise ratio of that noise, dB.
        mask_p: probability of the waveform SpecAugment masks.
        freq_masks: number of frequency masks.
        freq_width: widest frequency mask, mel bins (of 64).
        time_masks: number of time masks.
        time_width_seconds: longest time mask, seconds.

    Example:

    >>> chain = AudioChain(sample_rate=8000, crop_seconds=0.5)
    >>> chain(load_clip("noise", 8000), batch_size=4, seed=0).shape
    TensorShape([4, 4000])
    """

    def __init__(
        self,
        sample_rate=DEFAULT_SAMPLE_RATE,
        crop_seconds=1.0,
        *,
        speed=(0.9, 1.1),
        mix_p=0.5,
        mix_gain_db=(-12.0, 0.0),
        shift_seconds=0.1,
        pad_p=0.5,
        keep_seconds=(0.2, 1.0),
        fade_p=0.5,
        fade_seconds=0.1,
        fade_mode="linear",
        gain_db=(-6.0, 6.0),
        noise_p=0.5,
        snr_db=(10.0, 40.0),
        mask_p=0.5,
        freq_masks=2,
        freq_width=8,
        time_masks=2,
        time_width_seconds=0.1,
    ):
        self.sample_rate = _check_rate(sample_rate)
        if not crop_seconds > 0:
            raise ValueError(f"crop_seconds must be > 0, got {crop_seconds}: pass e.g. 1.0")
        self.crop_seconds = float(crop_seconds)
        self.speed = _range(speed, "speed", low=1e-3)
        for name, p in (("mix_p", mix_p), ("pad_p", pad_p), ("fade_p", fade_p), ("noise_p", noise_p),
                        ("mask_p", mask_p)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p}: pass e.g. 0.5 (0 turns it off)")
        for name, v in (("shift_seconds", shift_seconds), ("fade_seconds", fade_seconds),
                        ("time_width_seconds", time_width_seconds)):
            if v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}: pass e.g. 0.1 (0 turns it off)")
        if fade_mode not in FADE_MODES:
            raise ValueError(f"fade_mode {fade_mode!r} is unknown: use one of {', '.join(FADE_MODES)}")
        self.mix_p = float(mix_p)
        self.mix_gain_db = _range(mix_gain_db, "mix_gain_db")
        self.shift_seconds = float(shift_seconds)
        self.pad_p = float(pad_p)
        self.keep_seconds = _range(keep_seconds, "keep_seconds", low=1e-3)
        self.fade_p = float(fade_p)
        self.fade_seconds = float(fade_seconds)
        self.fade_mode = fade_mode
        self.gain_db = _range(gain_db, "gain_db")
        self.noise_p = float(noise_p)
        self.snr_db = _range(snr_db, "snr_db")
        self.mask_p = float(mask_p)
        self.freq_width, self.freq_masks = _check_mask(freq_width, freq_masks, "freq_mask")
        self.time_masks = _check_mask(0, time_masks, "time_mask")[1]
        self.time_width_seconds = float(time_width_seconds)

    @property
    def crop_samples(self):
        return int(round(self.crop_seconds * self.sample_rate))

    def min_clip_samples(self):
        """Fewest samples a clip needs: one crop read at the fastest speed."""
        return int(math.ceil(self.speed[1] * self.crop_samples)) + 1

    def check_clip(self, clip, name="clip"):
        """Raises ValueError if `clip` (an array, or its length) is shorter than one crop."""
        n = int(clip) if isinstance(clip, (int, np.integer)) else len(clip)
        need = self.min_clip_samples()
        if n < need:
            raise ValueError(
                f"{name} is {n / self.sample_rate:.2f} s long, shorter than one {self.crop_seconds:g} s crop "
                f"at speed {self.speed[1]:g} ({need / self.sample_rate:.2f} s): pass a longer clip "
                "or a shorter --crop_seconds"
            )

    def get_config(self):
        return {
            "sample_rate": self.sample_rate,
            "crop_seconds": self.crop_seconds,
            "speed": list(self.speed),
            "mix_p": self.mix_p,
            "mix_gain_db": list(self.mix_gain_db),
            "shift_seconds": self.shift_seconds,
            "pad_p": self.pad_p,
            "keep_seconds": list(self.keep_seconds),
            "fade_p": self.fade_p,
            "fade_seconds": self.fade_seconds,
            "fade_mode": self.fade_mode,
            "gain_db": list(self.gain_db),
            "noise_p": self.noise_p,
            "snr_db": list(self.snr_db),
            "mask_p": self.mask_p,
            "freq_masks": self.freq_masks,
            "freq_width": self.freq_width,
            "time_masks": self.time_masks,
            "time_width_seconds": self.time_width_seconds,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, clip, batch_size, seed):
        """One batch: float32 `(batch_size, crop_samples)`, peak <= 1.

        Args:
            clip: float32 `(N,)` array / tensor at `sample_rate`.
            batch_size: crops in the batch (a Python int).
            seed: int or shape-[2] int tensor (stateless).
        """
        clip = tf.convert_to_tensor(clip, tf.float32)
        if clip.shape.rank != 1:
            raise ValueError(f"AudioChain needs a 1-D clip, got shape {tuple(clip.shape)}: pass load_clip(...)'s output")
        if clip.shape[0] is not None:
            self.check_clip(int(clip.shape[0]))
        length, rate = self.crop_samples, self.sample_rate
        s = _split(seed, 10)
        x = random_crops(clip, batch_size, length, s[0], self.speed)
        if self.mix_p > 0:
            other = random_crops(clip, batch_size, length, s[1], self.speed)
            x = mix.__wrapped__(x, other, s[2], self.mix_p, self.mix_gain_db)
        x = time_shift.__wrapped__(x, s[3], int(round(self.shift_seconds * rate)))
        if self.pad_p > 0:
            low, high = (max(1, int(round(v * rate))) for v in self.keep_seconds)
            x = random_pad.__wrapped__(x, s[7], self.pad_p, low, high, int(round(0.01 * rate)))
        if self.fade_p > 0:
            x = random_fade.__wrapped__(x, s[4], self.fade_p, int(round(self.fade_seconds * rate)), self.fade_mode)
        x = random_gain.__wrapped__(x, s[5], self.gain_db)
        if self.noise_p > 0:
            x = add_noise.__wrapped__(x, s[6], self.noise_p, self.snr_db)
        if self.mask_p > 0:
            x = waveform_freq_mask.__wrapped__(x, s[8], rate, self.freq_width, self.freq_masks, self.mask_p)
            x = waveform_time_mask.__wrapped__(x, s[9], int(round(self.time_width_seconds * rate)),
                                               self.time_masks, self.mask_p)
        x = peak_limit.__wrapped__(x)
        return tf.ensure_shape(x, [batch_size, length])

    def dataset(self, clip, batch_size, seed=0):
        """An endless, prefetched `tf.data.Dataset` of `(batch_size, crop_samples)` batches."""
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}: pass e.g. 64")
        clip = np.asarray(clip, np.float32)
        if clip.ndim != 1:
            raise ValueError(f"AudioChain.dataset needs a 1-D clip, got shape {clip.shape}: pass load_clip(...)'s output")
        self.check_clip(clip)
        clip_t = tf.constant(clip)
        base = _seed(int(seed))
        batch_size = int(batch_size)

        def make(index):
            return self(clip_t, batch_size, tf.random.experimental.stateless_fold_in(base, index))

        ds = tf.data.Dataset.counter().map(make, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.prefetch(tf.data.AUTOTUNE)


def single_clip_dataset(clip, batch_size=64, sample_rate=DEFAULT_SAMPLE_RATE, crop_seconds=1.0, seed=0,
                        clip_seed=0, **chain_kwargs):
    """Loads one clip and streams batches of augmented crops (endless, seeded).

    Args:
        clip: anything `load_clip` takes (a path, `"noise"`, an array).
        batch_size: crops per batch.
        sample_rate: the teacher's rate; the clip is resampled to it once.
        crop_seconds: crop length (the teacher's input length).
        seed: seed of the stream.
        clip_seed: seed of the `"noise"` clip.
        **chain_kwargs: `AudioChain` options.

    Example:

    >>> ds = single_clip_dataset("noise", batch_size=2, sample_rate=8000, crop_seconds=0.25)
    >>> next(iter(ds)).shape
    TensorShape([2, 2000])
    """
    chain = AudioChain(sample_rate, crop_seconds, **chain_kwargs)
    return chain.dataset(load_clip(clip, sample_rate, seed=clip_seed), batch_size, seed=seed)


class SingleClipSource:
    """One clip plus chain settings: a stream of crops and a JSON-able config.

    The clip is loaded (decoded, down-mixed, resampled) once. A source built
    from an array stores `"clip": None` and `from_config` then needs `clip=`.

    Args:
        clip: a path, `"noise"`, an array or `(array, rate)` (see `load_clip`).
        sample_rate: the teacher's rate.
        crop_seconds: crop length, seconds.
        clip_seed: seed of the `"noise"` clip.
        **chain_kwargs: other `AudioChain` arguments.

    Example:

    >>> source = SingleClipSource("noise", sample_rate=8000, crop_seconds=0.5)
    >>> next(iter(source.dataset(batch_size=4, seed=0))).shape
    TensorShape([4, 4000])
    >>> SingleClipSource.from_config(source.get_config()).get_config() == source.get_config()
    True
    """

    def __init__(self, clip, sample_rate=DEFAULT_SAMPLE_RATE, crop_seconds=1.0, clip_seed=0, **chain_kwargs):
        self.clip_name = str(clip) if isinstance(clip, (str, os.PathLike)) else None
        self.clip_seed = int(clip_seed)
        self.chain = AudioChain(sample_rate, crop_seconds, **chain_kwargs)
        self.clip = load_clip(clip, self.chain.sample_rate, seed=self.clip_seed)
        self.chain.check_clip(self.clip, name=f"clip {self.clip_name or 'array'!r}")

    @property
    def sample_rate(self):
        return self.chain.sample_rate

    @property
    def crop_samples(self):
        return self.chain.crop_samples

    @property
    def seconds(self):
        """Length of the loaded clip in seconds."""
        return len(self.clip) / self.sample_rate

    def dataset(self, batch_size=64, seed=0):
        """The endless stream of augmented crop batches (see `AudioChain.dataset`)."""
        return self.chain.dataset(self.clip, batch_size, seed=seed)

    def get_config(self):
        return {"clip": self.clip_name, "clip_seed": self.clip_seed, **self.chain.get_config()}

    @classmethod
    def from_config(cls, config, clip=None):
        config = dict(config)
        stored = config.pop("clip", None)
        clip = stored if clip is None else clip
        if clip is None:
            raise ValueError(
                "SingleClipSource config has no clip (it was built from an array, which is not "
                "serialised): pass clip=<array or path> to from_config"
            )
        return cls(clip, **config)

    def __repr__(self):
        return (f"SingleClipSource(clip={self.clip_name or 'array'!r}, {self.seconds:.1f} s, "
                f"sample_rate={self.sample_rate}, crop_seconds={self.chain.crop_seconds:g})")


# --------------------------------------------------------------------------
# Supervised (labelled) waveform augmentation, for training audio teachers
# --------------------------------------------------------------------------


def supervised_augmentation(sample_rate, seed=0, speed=(0.9, 1.1), shift_seconds=0.1, gain_db=(-6.0, 6.0),
                            noise_p=0.3, snr_db=(15.0, 40.0)):
    """A `tf.data` map for labelled `(x, y)` waveform batches: speed, shift, gain, noise.

    Returns `apply(data)`, which zips `data` with a per-batch random stream
    (`tf.data.Dataset.random`, re-randomised every epoch) and maps the
    augmentations over `x`; labels are untouched.

    Example:

    >>> import tensorflow as tf
    >>> data = tf.data.Dataset.from_tensors((tf.zeros([2, 800]), tf.constant([0, 1])))
    >>> x, y = next(iter(supervised_augmentation(8000)(data)))
    >>> x.shape
    TensorShape([2, 800])
    """
    shift = int(round(shift_seconds * _check_rate(sample_rate)))

    def augment(batch, seeds):
        (x, y), seed = batch, seeds
        s = _split(seed, 4)
        x = speed_perturb.__wrapped__(x, s[0], speed)
        x = time_shift.__wrapped__(x, s[1], shift)
        x = random_gain.__wrapped__(x, s[2], gain_db)
        x = add_noise.__wrapped__(x, s[3], noise_p, snr_db)
        return peak_limit.__wrapped__(x), y

    def apply(data):
        seeds = tf.data.Dataset.random(seed=int(seed), rerandomize_each_iteration=True).batch(2)
        return tf.data.Dataset.zip(data, seeds).map(augment, num_parallel_calls=tf.data.AUTOTUNE)

    return apply


# --------------------------------------------------------------------------
# The front end
# --------------------------------------------------------------------------


def frame_parameters(sample_rate, window_seconds=0.025, hop_seconds=0.010, fft_length=None):
    """`(window, hop, fft_length)` in samples: 400, 160, 512 at 16 kHz."""
    window = int(round(window_seconds * sample_rate))
    hop = int(round(hop_seconds * sample_rate))
    if window < 2 or hop < 1:
        raise ValueError(
            f"window {window_seconds} s / hop {hop_seconds} s are under 2 / 1 samples at {sample_rate} Hz: "
            "pass longer ones"
        )
    if fft_length is None:
        fft_length = 1 << (window - 1).bit_length()
    if fft_length < window:
        raise ValueError(f"fft_length {fft_length} is shorter than the window ({window} samples): pass >= {window}")
    return window, hop, int(fft_length)


def num_frames(samples, sample_rate, hop_seconds=0.010):
    """Frames the front end makes of `samples` samples: ceil(samples / hop) (end padded)."""
    hop = int(round(hop_seconds * sample_rate))
    return -(-int(samples) // hop)


def log_mel(waveform, sample_rate=DEFAULT_SAMPLE_RATE, window_seconds=0.025, hop_seconds=0.010, num_mels=64,
            fmin=20.0, fmax=None, fft_length=None, top_db=80.0, amin=1e-10):
    """Log-mel spectrogram in dB: `(..., samples)` -> `(..., frames, num_mels)`.

    `tfio.audio.spectrogram` (|STFT| with a periodic Hann window of
    `window_seconds`, hop `hop_seconds`, FFT `fft_length` (next power of two),
    the end zero-padded so frames = ceil(samples / hop)) is squared to power,
    mapped by `tfio.audio.melscale` (HTK mel triangles, peak 1, `fmin` to
    `fmax` = Nyquist), turned into `10 log10(max(power, amin))` and floored at
    each example's maximum minus `top_db` (None: no floor).

    Example:

    >>> log_mel(np.zeros((2, 16000), "float32")).shape
    TensorShape([2, 100, 64])
    """
    tfio_audio = _tfio_audio()
    window, hop, nfft = frame_parameters(sample_rate, window_seconds, hop_seconds, fft_length)
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    x = tf.convert_to_tensor(waveform)
    x = tf.cast(x, tf.float32)
    magnitude = tfio_audio.spectrogram(x, nfft=nfft, window=window, stride=hop)
    mel = tfio_audio.melscale(tf.square(magnitude), rate=sample_rate, mels=num_mels, fmin=float(fmin), fmax=fmax)
    db = 10.0 * tf.math.log(tf.maximum(mel, amin)) / math.log(10.0)
    if top_db is not None:
        db = tf.maximum(db, tf.reduce_max(db, axis=[-2, -1], keepdims=True) - float(top_db))
    return db


@keras.saving.register_keras_serializable(package="aip_keras")
class LogMel(keras.layers.Layer):
    """The audio front end as a layer: raw waveforms `(B, samples)` -> log-mel dB `(B, frames, mels)`.

    See `log_mel`. No weights; a saved model with this layer takes raw
    waveforms at `sample_rate` (load it after `import aip_keras.sources`).

    Args:
        sample_rate: the waveform's rate in Hz.
        window_seconds: STFT window (25 ms).
        hop_seconds: STFT hop (10 ms).
        num_mels: mel bins.
        fmin: lowest mel edge, Hz.
        fmax: highest mel edge, Hz (None: Nyquist).
        fft_length: FFT size (None: next power of two above the window).
        top_db: per-example dynamic range floor, dB (None: none).
        **kwargs: standard layer arguments.

    Example:

    >>> layer = LogMel(sample_rate=8000, num_mels=40)
    >>> layer(np.zeros((2, 8000), "float32")).shape
    TensorShape([2, 100, 40])
    """

    def __init__(self, sample_rate=DEFAULT_SAMPLE_RATE, window_seconds=0.025, hop_seconds=0.010, num_mels=64,
                 fmin=20.0, fmax=None, fft_length=None, top_db=80.0, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate = _check_rate(sample_rate)
        frame_parameters(self.sample_rate, window_seconds, hop_seconds, fft_length)
        if int(num_mels) < 1:
            raise ValueError(f"num_mels must be >= 1, got {num_mels}: pass e.g. 64")
        nyquist = self.sample_rate / 2.0
        top = nyquist if fmax is None else float(fmax)
        if not 0.0 <= float(fmin) < top <= nyquist:
            raise ValueError(f"mel range ({fmin}, {top}) Hz is invalid at {self.sample_rate} Hz: need 0 <= fmin < fmax <= {nyquist:g}")
        self.window_seconds = float(window_seconds)
        self.hop_seconds = float(hop_seconds)
        self.num_mels = int(num_mels)
        self.fmin = float(fmin)
        self.fmax = None if fmax is None else float(fmax)
        self.fft_length = None if fft_length is None else int(fft_length)
        self.top_db = None if top_db is None else float(top_db)
        self.built = True

    def call(self, inputs):
        return log_mel(inputs, self.sample_rate, self.window_seconds, self.hop_seconds, self.num_mels,
                       self.fmin, self.fmax, self.fft_length, self.top_db)

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None if samples is None else num_frames(samples, self.sample_rate, self.hop_seconds)
        return (*input_shape[:-1], frames, self.num_mels)

    def get_config(self):
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            window_seconds=self.window_seconds,
            hop_seconds=self.hop_seconds,
            num_mels=self.num_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            fft_length=self.fft_length,
            top_db=self.top_db,
        )
        return config


@keras.saving.register_keras_serializable(package="aip_keras")
class SpecAugment(keras.layers.Layer):
    """SpecAugment masks on `(B, frames, mels)` or `(B, frames, mels, 1)` in training only.

    Each example gets `freq_masks` bands of U{0..freq_width} mel bins and
    `time_masks` spans of U{0..time_width} frames set to `value` (0: the mean
    of a standardised log-mel). Inference (`training=False`) is the identity.

    Args:
        freq_masks: number of frequency masks.
        freq_width: widest frequency mask, bins.
        time_masks: number of time masks.
        time_width: widest time mask, frames.
        value: what masked cells are set to.
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard layer arguments.

    Example:

    >>> layer = SpecAugment(seed=0)
    >>> layer(np.ones((2, 100, 64), "float32"), training=True).shape
    TensorShape([2, 100, 64])
    """

    def __init__(self, freq_masks=2, freq_width=8, time_masks=2, time_width=10, value=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.freq_width, self.freq_masks = _check_mask(freq_width, freq_masks, "freq_mask")
        self.time_width, self.time_masks = _check_mask(time_width, time_masks, "time_mask")
        self.value = float(value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if not training or not (self.freq_masks or self.time_masks):
            return inputs
        squeeze = len(inputs.shape) == 4
        x = inputs[..., 0] if squeeze else inputs
        seeds = keras.random.randint((2, 2), 0, 2**31 - 1, seed=self.seed_generator, dtype="int32")
        x = freq_mask.__wrapped__(x, seeds[0], self.freq_width, self.freq_masks, self.value)
        x = time_mask.__wrapped__(x, seeds[1], self.time_width, self.time_masks, self.value)
        return x[..., None] if squeeze else x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            freq_masks=self.freq_masks,
            freq_width=self.freq_width,
            time_masks=self.time_masks,
            time_width=self.time_width,
            value=self.value,
            seed=self.seed,
        )
        return config
