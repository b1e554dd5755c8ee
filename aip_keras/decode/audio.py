"""Audio decoding: a file, bytes or an array -> float32 mono samples at the teacher's rate.

WAV, FLAC, OGG/Vorbis, AIFF, MP3 ... 16-bit PCM WAV is decoded by
`tf.audio.decode_wav`, everything else (8/24/32-bit integer and float WAV,
other containers) by `soundfile` (libsndfile). Documented conversions:
several channels are **down-mixed** by their mean; another sample rate is
**resampled once** with `scipy.signal.resample_poly`; float files whose peak
exceeds 1 are scaled by 1 / peak (with a warning). Errors (one line): a
missing, empty or non-audio file, a clip with no samples, an all-silent clip
(peak below `SILENCE_DBFS`), NaN/inf samples.

Used by the single-clip source (`aip_keras.sources.audio`) and the labelled
audio sets (`aip_keras.datasets.audio`).
"""

import io
import math
import os
import pathlib
import warnings

import numpy as np
import tensorflow as tf

from aip_keras import atomic
from aip_keras.front_end import DEFAULT_SAMPLE_RATE, check_rate
from aip_keras.utils import one_line

NOISE = "noise"
# Clips bundled with the package, by name (see aip_keras/data/audio/README.md for provenance and licence).
BUNDLED_CLIPS = {"speech_prompts": pathlib.Path(__file__).resolve().parents[1] / "data" / "audio" / "speech_prompts.wav"}
"""Name of the white-noise control clip."""

NOISE_SECONDS = 60.0
"""Length of the white-noise control clip."""

SILENCE_DBFS = -80.0
"""A clip whose peak is below this level (dB re full scale) counts as silent."""

AUDIO_EXTENSIONS = (".aif", ".aiff", ".au", ".flac", ".mp3", ".oga", ".ogg", ".opus", ".wav")
"""File extensions read as audio by folder datasets."""


def wav_format(data):
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
    fmt = wav_format(data)
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
            f"{what} is not readable audio ({one_line(error)}): pass a WAV, FLAC, OGG, AIFF or MP3 file"
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
        clip: an audio file path; a bundled clip's name (`BUNDLED_CLIPS`:
            `"speech_prompts"`, English speech, CC-BY-SA 3.0); `"noise"`
            (`NOISE_SECONDS` of white Gaussian noise, standard deviation 0.1,
            seeded); a `(samples, rate)` pair;
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
    sample_rate = check_rate(sample_rate)
    if isinstance(clip, str) and clip == NOISE and not os.path.exists(clip):
        rng = np.random.default_rng(int(seed))
        n = int(round(NOISE_SECONDS * sample_rate))
        return np.clip(rng.normal(0.0, 0.1, n), -1.0, 1.0).astype(np.float32)
    if isinstance(clip, str) and clip in BUNDLED_CLIPS and not os.path.exists(clip):
        clip = BUNDLED_CLIPS[clip]
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
