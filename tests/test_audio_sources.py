"""Tests for aip_keras.sources.audio: decoding, conversions, augmentations, the crop stream."""
import numpy as np
import pytest
import soundfile
import tensorflow as tf

from aip_keras.sources import audio
from aip_keras.sources.audio import AudioChain, SingleClipSource, concatenate_clips, load_clip

RATE = 8000


def _tone(seconds=1.0, rate=RATE, freq=440.0, amp=0.5, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x] * channels, -1) if channels > 1 else x


def _one_line(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message and ": " in message, message
    for fragment in fragments:
        assert fragment in message, message


def _in_map(fn, *args):
    """Runs `fn(*args)` inside tf.data.Dataset.map (graph mode)."""
    ds = tf.data.Dataset.from_tensors(tuple(tf.convert_to_tensor(a) for a in args))
    return next(iter(ds.map(lambda *a: fn(*a)))).numpy()


# ----------------------------------------------------------------- decoding


@pytest.mark.parametrize("subtype, tol", [
    ("PCM_16", 1 / 2**15), ("PCM_U8", 1 / 2**7), ("PCM_24", 1 / 2**23), ("PCM_32", 1e-6),
    ("FLOAT", 1e-7), ("DOUBLE", 1e-7),
])
def test_wav_bit_depths_decode_to_the_same_waveform(tmp_path, subtype, tol):
    x = _tone()
    path = tmp_path / f"{subtype}.wav"
    soundfile.write(path, x, RATE, subtype=subtype)
    y = load_clip(path, sample_rate=RATE)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=tol * 1.01)


def test_pcm16_wav_goes_through_tf_decode_wav(tmp_path, monkeypatch):
    path = tmp_path / "a.wav"
    soundfile.write(path, _tone(), RATE, subtype="PCM_16")
    assert audio._wav_format(path.read_bytes()) == (1, 16)
    calls = []
    original = tf.audio.decode_wav
    monkeypatch.setattr(tf.audio, "decode_wav", lambda data: calls.append(1) or original(data))
    load_clip(path, sample_rate=RATE)
    assert calls == [1]


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_flac_and_ogg(tmp_path, fmt):
    path = tmp_path / f"a.{fmt.lower()}"
    soundfile.write(path, _tone(), RATE, format=fmt)
    y = load_clip(path, sample_rate=RATE)
    assert y.shape == (RATE,)
    # Vorbis is lossy: compare loudness, not samples.
    assert abs(np.sqrt(np.mean(y**2)) - 0.5 / np.sqrt(2)) < 0.02


def test_stereo_is_down_mixed_by_mean(tmp_path):
    left, right = _tone(freq=300.0), _tone(freq=700.0, amp=0.25)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], -1), RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_clip(path, sample_rate=RATE), (left + right) / 2, atol=1e-6)


def test_other_sample_rate_is_resampled_once(tmp_path):
    path = tmp_path / "a.wav"
    soundfile.write(path, _tone(0.5, rate=22050, freq=440.0), 22050, subtype="PCM_16")
    y = load_clip(path, sample_rate=16000)
    assert len(y) == int(np.ceil(11025 * 16000 / 22050))
    spectrum = np.abs(np.fft.rfft(y))
    peak_hz = np.argmax(spectrum) * 16000 / len(y)
    assert abs(peak_hz - 440.0) < 3.0


def test_float_wav_above_full_scale_is_scaled_with_a_warning(tmp_path):
    path = tmp_path / "loud.wav"
    soundfile.write(path, _tone(amp=4.0), RATE, subtype="FLOAT")
    with pytest.warns(UserWarning, match="scaled by 1/4"):
        y = load_clip(path, sample_rate=RATE)
    assert abs(np.abs(y).max() - 1.0) < 1e-3


def test_noise_clip_is_seeded():
    a, b, c = (load_clip("noise", RATE, seed=s) for s in (0, 0, 1))
    assert a.shape == (int(audio.NOISE_SECONDS * RATE),)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_inputs_are_one_clear_line(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("this is not audio at all")
    soundfile.write(tmp_path / "nothing.wav", np.zeros((0,), np.float32), RATE)
    soundfile.write(tmp_path / "silent.wav", np.zeros(RATE, np.float32), RATE, subtype="PCM_16")
    cases = [
        (tmp_path / "missing.wav", "does not exist"),
        (tmp_path, "is a directory"),
        (tmp_path / "empty.wav", "is empty (0 bytes)"),
        (tmp_path / "text.wav", "not readable audio"),
        (tmp_path / "nothing.wav", "no samples"),
        (tmp_path / "silent.wav", "is silent"),
        (np.full(100, np.nan, np.float32), "NaN"),
        (np.zeros((2, 3, 4), np.float32), "expected (samples,)"),
    ]
    for clip, fragment in cases:
        with pytest.raises(ValueError) as excinfo:
            load_clip(clip, sample_rate=RATE)
        _one_line(excinfo, fragment)


def test_clip_shorter_than_the_crop(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, _tone(seconds=0.5), RATE)
    with pytest.raises(ValueError) as excinfo:
        SingleClipSource(path, sample_rate=RATE, crop_seconds=1.0)
    _one_line(excinfo, "shorter than one 1 s crop", "--crop_seconds")


def test_integer_arrays_and_rate_pairs():
    pcm = (_tone() * 32767).astype(np.int16)
    np.testing.assert_allclose(load_clip(pcm, RATE), _tone(), atol=1 / 2**14)
    assert load_clip((_tone(), RATE), 16000).shape == (2 * RATE,)


def test_concatenate_clips(tmp_path):
    soundfile.write(tmp_path / "a.wav", _tone(0.5), RATE, subtype="PCM_16")
    soundfile.write(tmp_path / "b.wav", _tone(0.25, rate=16000, channels=2), 16000, subtype="PCM_24")
    out = concatenate_clips([tmp_path / "a.wav", tmp_path / "b.wav"], tmp_path / "all.wav", gap_seconds=0.1)
    info = soundfile.info(out)
    assert info.samplerate == RATE and info.channels == 1 and info.subtype == "PCM_16"
    assert info.frames == 4000 + 800 + 2000
    with pytest.raises(ValueError, match="no files"):
        concatenate_clips([], tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_fit_length():
    np.testing.assert_array_equal(audio.fit_length(np.arange(6, dtype=np.float32), 4), [1, 2, 3, 4])
    np.testing.assert_array_equal(audio.fit_length(np.ones(2, np.float32), 5), [0, 1, 1, 0, 0])


# ----------------------------------------------------------------- augmentations


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return (rng.normal(0, 0.2, (4, 2000)) * np.hanning(2000)).astype(np.float32)


WAVE_OPS = {
    "time_shift": lambda x, s: audio.time_shift(x, s, max_shift=300),
    "speed_perturb": lambda x, s: audio.speed_perturb(x, s, speed=(0.8, 1.2)),
    "random_gain": lambda x, s: audio.random_gain(x, s, gain_db=(-6.0, 6.0)),
    "mix": lambda x, s: audio.mix(x, tf.reverse(x, [0]), s, p=1.0),
    "add_noise": lambda x, s: audio.add_noise(x, s, p=1.0, snr_db=(10.0, 20.0)),
    "random_fade": lambda x, s: audio.random_fade(x, s, p=1.0, max_fade=500),
    "peak_limit": lambda x, s: audio.peak_limit(x * 10.0),
    "random_pad": lambda x, s: audio.random_pad(x, s, p=1.0, min_keep=200, max_keep=1500, ramp=20),
    "waveform_freq_mask": lambda x, s: audio.waveform_freq_mask(x, s, RATE, max_width=8, count=2),
    "waveform_time_mask": lambda x, s: audio.waveform_time_mask(x, s, max_width=300, count=2),
}


@pytest.mark.parametrize("name", sorted(WAVE_OPS))
def test_waveform_ops_eager_equals_tf_data_map(batch, name):
    op = WAVE_OPS[name]
    seed = tf.constant([3, 4], tf.int64)
    eager = op(tf.constant(batch), seed).numpy()
    mapped = _in_map(op, batch, seed)
    assert eager.shape == batch.shape and eager.dtype == np.float32
    np.testing.assert_allclose(eager, mapped, atol=1e-5)
    np.testing.assert_allclose(op(tf.constant(batch), seed).numpy(), eager)  # same seed, same result
    if name != "peak_limit":
        assert not np.allclose(eager, batch)
        assert not np.allclose(op(tf.constant(batch), tf.constant([5, 6], tf.int64)).numpy(), eager)
    one = op(tf.constant(batch[0]), seed).numpy()  # one unbatched example works too
    assert one.shape == batch.shape[1:]


def test_time_shift_moves_samples(batch):
    out = audio.time_shift(batch, tf.constant([1, 2], tf.int64), max_shift=300).numpy()
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
    out = audio.random_pad(batch, tf.constant([1, 1], tf.int64), p=1.0, min_keep=400, max_keep=800, ramp=1).numpy()
    for row, src in zip(out, batch):
        kept = np.flatnonzero(row)
        assert 400 <= kept[-1] - kept[0] + 1 <= 800
        np.testing.assert_allclose(row[kept[0]:kept[-1] + 1], src[kept[0]:kept[-1] + 1], atol=1e-6)


def test_waveform_masks_hit_the_log_mel():
    x = np.random.default_rng(4).normal(0, 0.1, (4, 16000)).astype(np.float32)
    seed = tf.constant([2, 3], tf.int64)
    drop = audio.log_mel(x).numpy() - audio.log_mel(audio.waveform_freq_mask(x, seed, 16000, 8, 2)).numpy()
    per_band = drop.mean(axis=1)  # (B, mels): dB lost per mel band
    hit = (per_band > 20).sum(-1)  # masks are U{0..8} bins wide: a row may draw two empty ones
    assert np.all(per_band > -0.5) and hit.sum() >= 4 and np.all(hit <= 16)
    timed = audio.waveform_time_mask(x, seed, max_width=1600, count=2).numpy()
    assert np.all(((timed == 0) & (x != 0)).sum(-1) <= 3200) and ((timed == 0).sum(-1) > 0).any()


def test_gain_and_noise_levels(batch):
    seed = tf.constant([7, 8], tf.int64)
    gained = audio.random_gain(batch, seed, gain_db=(-6.0, 6.0)).numpy()
    db = 20 * np.log10(np.abs(gained).sum(1) / np.abs(batch).sum(1))
    assert np.all((db >= -6.0 - 1e-4) & (db <= 6.0 + 1e-4))
    noisy = audio.add_noise(batch, seed, p=1.0, snr_db=(10.0, 20.0)).numpy()
    snr = 10 * np.log10(np.mean(batch**2, 1) / np.mean((noisy - batch) ** 2, 1))
    assert np.all((snr > 9.0) & (snr < 21.0)), snr
    assert np.array_equal(audio.add_noise(np.zeros_like(batch), seed, p=1.0).numpy(), np.zeros_like(batch))


@pytest.mark.parametrize("mode", audio.FADE_MODES)
def test_fade_matches_tensorflow_io(mode):
    tfio_audio = audio._tfio_audio()
    x = np.random.default_rng(1).uniform(-1, 1, 1000).astype(np.float32)
    for fade_in, fade_out in ((0, 0), (1, 1), (100, 250), (1000, 3)):
        reference = tfio_audio.fade(tf.constant(x), fade_in=fade_in, fade_out=fade_out, mode=mode).numpy()
        np.testing.assert_allclose(audio.fade(x, fade_in, fade_out, mode).numpy(), reference, atol=1e-6)
        np.testing.assert_allclose(_in_map(lambda v: audio.fade(v, fade_in, fade_out, mode), x), reference, atol=1e-6)


def test_speed_one_is_identity_and_crops_are_slices():
    x = np.random.default_rng(2).normal(size=(3, 500)).astype(np.float32)
    np.testing.assert_allclose(audio.speed_perturb(x, 0, speed=(1.0, 1.0)).numpy(), x, atol=1e-6)
    clip = np.arange(5000, dtype=np.float32)
    crops = audio.random_crops(clip, 6, 100, seed=0).numpy()
    assert np.all(np.diff(crops, axis=1) == 1.0)  # contiguous runs of the clip
    fast = audio.random_crops(clip, 6, 100, seed=0, speed=(1.2, 1.2)).numpy()
    np.testing.assert_allclose(np.diff(fast, axis=1), 1.2, atol=1e-3)
    with pytest.raises(ValueError, match="fewer than one crop"):
        audio.random_crops(clip[:50], 2, 100, seed=0)


SPEC_OPS = {
    "freq_mask": lambda x, s: audio.freq_mask(x, s, max_width=8, count=2),
    "time_mask": lambda x, s: audio.time_mask(x, s, max_width=10, count=2),
}


@pytest.mark.parametrize("name", sorted(SPEC_OPS))
def test_spec_masks_eager_equals_tf_data_map(name):
    spec = np.random.default_rng(3).normal(size=(8, 50, 32)).astype(np.float32) + 5.0  # no zeros of its own
    seed = tf.constant([9, 9], tf.int64)
    eager = SPEC_OPS[name](tf.constant(spec), seed).numpy()
    np.testing.assert_array_equal(eager, _in_map(SPEC_OPS[name], spec, seed))
    masked = eager == 0
    axis = 1 if name == "freq_mask" else 2  # collapse the other axis
    lines = masked.all(axis=axis)  # (B, mels) or (B, frames)
    assert np.array_equal(masked.any(axis=axis), lines)  # whole rows / columns, never single cells
    assert lines.any() and np.all(lines.sum(-1) <= 2 * (8 if name == "freq_mask" else 10))


def test_spec_augment_layer_trains_only():
    layer = audio.SpecAugment(seed=0)
    spec = np.ones((4, 100, 64, 1), np.float32)
    assert np.array_equal(layer(spec, training=False), spec)
    masked = layer(spec, training=True).numpy()
    assert masked.shape == spec.shape and (masked == 0).any()
    ds = tf.data.Dataset.from_tensors(spec).map(lambda s: layer(s, training=True))
    assert (next(iter(ds)).numpy() == 0).any()
    restored = audio.SpecAugment.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()


# ----------------------------------------------------------------- the chain and the stream


def test_chain_batches_are_seeded_and_bounded():
    clip = load_clip("noise", RATE)
    chain = AudioChain(RATE, crop_seconds=0.25)
    a = chain(clip, 8, seed=0).numpy()
    assert a.shape == (8, 2000) and np.abs(a).max() <= 1.0 + 1e-6
    np.testing.assert_array_equal(a, chain(clip, 8, seed=0).numpy())
    assert not np.array_equal(a, chain(clip, 8, seed=1).numpy())
    mapped = next(iter(tf.data.Dataset.from_tensors(clip).map(lambda c: chain(c, 8, 0)))).numpy()
    np.testing.assert_allclose(mapped, a, atol=1e-6)


def test_source_stream_and_config_round_trip(tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, np.concatenate([_tone(1.0, freq=f) for f in (200, 400, 800)]), RATE, subtype="PCM_24")
    source = SingleClipSource(path, sample_rate=16000, crop_seconds=0.5, noise_p=0.0)
    assert abs(source.seconds - 3.0) < 1e-3 and source.crop_samples == 8000
    first = [b.numpy() for b in source.dataset(4, seed=0).take(3)]
    again = [b.numpy() for b in source.dataset(4, seed=0).take(3)]
    assert all(b.shape == (4, 8000) for b in first)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], first[1])
    restored = SingleClipSource.from_config(source.get_config())
    assert restored.get_config() == source.get_config()
    with pytest.raises(ValueError, match="no clip"):
        SingleClipSource.from_config(SingleClipSource(_tone(2.0), sample_rate=RATE).get_config())


@pytest.mark.parametrize("kwargs, fragment", [
    ({"speed": (1.2, 0.8)}, "speed range"),
    ({"mix_p": 2.0}, "mix_p must be a probability"),
    ({"fade_mode": "cubic"}, "fade_mode"),
    ({"crop_seconds": 0}, "crop_seconds must be > 0"),
    ({"sample_rate": 100}, "sample_rate must be an int >= 1000"),
])
def test_chain_rejects_bad_settings(kwargs, fragment):
    with pytest.raises(ValueError) as excinfo:
        AudioChain(**kwargs)
    _one_line(excinfo, fragment)
