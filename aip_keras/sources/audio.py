"""One long audio clip -> an endless, seeded stream of augmented crops.

The audio counterpart of `aip_keras.sources.image` (the paper reports audio
distillation from one clip but its public code has none). Waveforms between
stages are float32 in [-1, 1], mono, batched as `(batch, samples)`, at the
teacher's sample rate. The clip is loaded by `aip_keras.decode.audio.load_clip`
(decoded, down-mixed, resampled once); a clip shorter than one crop is a
one-line error.

Each crop of a batch is made by `AudioChain` from the ops of
`aip_keras.sources.audio_ops`, in order:

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

SpecAugment proper (masks on the log-mel, `aip_keras.front_end.SpecAugment`)
lives inside the models and acts in training mode only: it is for supervised
teacher training. In distillation only the student runs in training mode, so
those masks would be seen by the student alone; that cut the FSDD accuracy of
a student distilled from speech from 0.44 to 0.21 in our ablation (8,192
crops), hence the waveform versions above, which both networks see, and
students built without the layer (`jobs._audio_setup`).

All randomness is stateless: batch `b` of a stream with seed `s` depends only
on `(s, b, batch_size)`, never on threads or on what ran before.
"""

import math
import os

import numpy as np
import tensorflow as tf

from aip_keras.decode.audio import load_clip
from aip_keras.front_end import DEFAULT_SAMPLE_RATE, audio_seed, check_mask, check_rate, split_seed
from aip_keras.sources.audio_ops import (
    FADE_MODES,
    add_noise,
    mix,
    peak_limit,
    random_crops,
    random_fade,
    random_gain,
    random_pad,
    speed_perturb,
    time_shift,
    value_range,
    waveform_freq_mask,
    waveform_time_mask,
)

CROPS_PER_EPOCH = 10_000
"""Default crops per "epoch" of a single-clip stream (how often validation runs)."""


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
        self.sample_rate = check_rate(sample_rate)
        if not crop_seconds > 0:
            raise ValueError(f"crop_seconds must be > 0, got {crop_seconds}: pass e.g. 1.0")
        self.crop_seconds = float(crop_seconds)
        self.speed = value_range(speed, "speed", low=1e-3)
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
        self.mix_gain_db = value_range(mix_gain_db, "mix_gain_db")
        self.shift_seconds = float(shift_seconds)
        self.pad_p = float(pad_p)
        self.keep_seconds = value_range(keep_seconds, "keep_seconds", low=1e-3)
        self.fade_p = float(fade_p)
        self.fade_seconds = float(fade_seconds)
        self.fade_mode = fade_mode
        self.gain_db = value_range(gain_db, "gain_db")
        self.noise_p = float(noise_p)
        self.snr_db = value_range(snr_db, "snr_db")
        self.mask_p = float(mask_p)
        self.freq_width, self.freq_masks = check_mask(freq_width, freq_masks, "freq_mask")
        self.time_masks = check_mask(0, time_masks, "time_mask")[1]
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
        s = split_seed(seed, 10)
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
        base = audio_seed(int(seed))
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
    shift = int(round(shift_seconds * check_rate(sample_rate)))

    def augment(batch, seeds):
        (x, y), seed = batch, seeds
        s = split_seed(seed, 4)
        x = speed_perturb.__wrapped__(x, s[0], speed)
        x = time_shift.__wrapped__(x, s[1], shift)
        x = random_gain.__wrapped__(x, s[2], gain_db)
        x = add_noise.__wrapped__(x, s[3], noise_p, snr_db)
        return peak_limit.__wrapped__(x), y

    def apply(data):
        seeds = tf.data.Dataset.random(seed=int(seed), rerandomize_each_iteration=True).batch(2)
        return tf.data.Dataset.zip(data, seeds).map(augment, num_parallel_calls=tf.data.AUTOTUNE)

    return apply
