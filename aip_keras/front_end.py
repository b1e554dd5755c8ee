"""The audio front end: waveform -> log-mel dB (`log_mel`, the `LogMel` layer) and `SpecAugment`.

The layers that audio models carry inside them (`aip_keras.models.audio`), kept
apart from the single-clip source (`aip_keras.sources.audio`) so a saved model
needs only this module: `import aip_keras` registers `LogMel` and `SpecAugment`
(`aip_keras>LogMel`, `aip_keras>SpecAugment`) for `keras.saving.load_model`.

The front end is power STFT (Hann window) -> mel filterbank (HTK) -> dB, built
from tensorflow-io's pure-Python audio functions (`tfio.audio.spectrogram`,
`tfio.audio.melscale`); only the final top-dB floor is done here, per example
(`tfio.audio.dbscale` takes the maximum over the whole batch, which would make
one example depend on the others). tensorflow-io's compiled decoders and
resampler do not load on TF 2.21 and are not used.
"""

import math
import warnings

import keras
import tensorflow as tf

from aip_keras.utils import stateless_seed

DEFAULT_SAMPLE_RATE = 16000
_TFIO_AUDIO = None


def tfio_audio():
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


def check_rate(sample_rate):
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or int(sample_rate) < 1000:
        raise ValueError(f"sample_rate must be an int >= 1000 Hz, got {sample_rate!r}: pass e.g. 16000")
    return int(sample_rate)


def audio_seed(seed):
    """An int or shape-[2] tensor -> the int64 shape-[2] stateless seed of the audio streams."""
    return stateless_seed(seed, 0x41554449)


def split_seed(seed, n):
    """`n` independent stateless seeds from one (int or shape-[2]) audio seed."""
    return tf.unstack(tf.random.experimental.stateless_split(audio_seed(seed), n))


def batched(fn):
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


def _spectrogram_op(fn):
    fn.rank, fn.shape_text = 3, "(batch, frames, mel bins) spectrograms"
    return batched(fn)


def random_masks(seed, batch, size, max_width, count):
    """`(B, size)` bool: `count` masks of width U{0..max_width} at uniform starts."""
    if max_width == 0 or count == 0:
        return tf.zeros([batch, size], tf.bool)
    s_w, s_start = split_seed(seed, 2)
    width = tf.random.stateless_uniform([batch, count], s_w, 0, max_width + 1, dtype=tf.int32)
    width = tf.minimum(width, size)
    start = tf.cast(
        tf.floor(tf.random.stateless_uniform([batch, count], s_start) * tf.cast(size - width + 1, tf.float32)),
        tf.int32,
    )
    pos = tf.range(size)[None, None, :]
    hit = (pos >= start[..., None]) & (pos < (start + width)[..., None])
    return tf.reduce_any(hit, axis=1)


def check_mask(max_width, count, what):
    if int(max_width) < 0 or int(count) < 0:
        raise ValueError(f"{what} width and count must be >= 0, got {max_width} and {count}: pass e.g. 8 and 2")
    return int(max_width), int(count)


@_spectrogram_op
def freq_mask(spec, seed, max_width=8, count=2, value=0.0):
    """SpecAugment frequency masks: `count` bands of U{0..max_width} mel bins set to `value`.

    `spec` is `(batch, frames, mels)` (or one `(frames, mels)`); each example
    gets its own bands (tfio's `freq_mask` draws one band for a single example).
    """
    max_width, count = check_mask(max_width, count, "freq_mask")
    batch, mels = tf.shape(spec)[0], tf.shape(spec)[2]
    hit = random_masks(audio_seed(seed), batch, mels, max_width, count)
    return tf.where(hit[:, None, :], tf.cast(value, spec.dtype), spec)


@_spectrogram_op
def time_mask(spec, seed, max_width=10, count=2, value=0.0):
    """SpecAugment time masks: `count` spans of U{0..max_width} frames set to `value`."""
    max_width, count = check_mask(max_width, count, "time_mask")
    batch, frames = tf.shape(spec)[0], tf.shape(spec)[1]
    hit = random_masks(audio_seed(seed), batch, frames, max_width, count)
    return tf.where(hit[:, :, None], tf.cast(value, spec.dtype), spec)


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
    audio_ops = tfio_audio()
    window, hop, nfft = frame_parameters(sample_rate, window_seconds, hop_seconds, fft_length)
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    x = tf.convert_to_tensor(waveform)
    x = tf.cast(x, tf.float32)
    magnitude = audio_ops.spectrogram(x, nfft=nfft, window=window, stride=hop)
    mel = audio_ops.melscale(tf.square(magnitude), rate=sample_rate, mels=num_mels, fmin=float(fmin), fmax=fmax)
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
        self.sample_rate = check_rate(sample_rate)
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
        self.freq_width, self.freq_masks = check_mask(freq_width, freq_masks, "freq_mask")
        self.time_width, self.time_masks = check_mask(time_width, time_masks, "time_mask")
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
