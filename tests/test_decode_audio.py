"""Tests for aip_keras.decode.audio: decoding, down-mixing, resampling, clip loading and joining."""
import numpy as np
import pytest
import soundfile
import tensorflow as tf
from helpers import assert_one_line_error, tone

from aip_keras.decode import audio
from aip_keras.decode.audio import concatenate_clips, load_clip

RATE = 8000


# ----------------------------------------------------------------- decoding


@pytest.mark.parametrize("subtype, tol", [
    ("PCM_16", 1 / 2**15), ("PCM_U8", 1 / 2**7), ("PCM_24", 1 / 2**23), ("PCM_32", 1e-6),
    ("FLOAT", 1e-7), ("DOUBLE", 1e-7),
])
def test_wav_bit_depths_decode_to_the_same_waveform(tmp_path, subtype, tol):
    x = tone()
    path = tmp_path / f"{subtype}.wav"
    soundfile.write(path, x, RATE, subtype=subtype)
    y = load_clip(path, sample_rate=RATE)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=tol * 1.01)


def test_pcm16_wav_goes_through_tf_decode_wav(tmp_path, monkeypatch):
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(), RATE, subtype="PCM_16")
    assert audio.wav_format(path.read_bytes()) == (1, 16)
    calls = []
    original = tf.audio.decode_wav
    monkeypatch.setattr(tf.audio, "decode_wav", lambda data: calls.append(1) or original(data))
    load_clip(path, sample_rate=RATE)
    assert calls == [1]


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_flac_and_ogg(tmp_path, fmt):
    path = tmp_path / f"a.{fmt.lower()}"
    soundfile.write(path, tone(), RATE, format=fmt)
    y = load_clip(path, sample_rate=RATE)
    assert y.shape == (RATE,)
    # Vorbis is lossy: compare loudness, not samples.
    assert abs(np.sqrt(np.mean(y**2)) - 0.5 / np.sqrt(2)) < 0.02


def test_stereo_is_down_mixed_by_mean(tmp_path):
    left, right = tone(freq=300.0), tone(freq=700.0, amp=0.25)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], -1), RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_clip(path, sample_rate=RATE), (left + right) / 2, atol=1e-6)


def test_other_sample_rate_is_resampled_once(tmp_path):
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(0.5, rate=22050, freq=440.0), 22050, subtype="PCM_16")
    y = load_clip(path, sample_rate=16000)
    assert len(y) == int(np.ceil(11025 * 16000 / 22050))
    spectrum = np.abs(np.fft.rfft(y))
    peak_hz = np.argmax(spectrum) * 16000 / len(y)
    assert abs(peak_hz - 440.0) < 3.0


def test_float_wav_above_full_scale_is_scaled_with_a_warning(tmp_path):
    path = tmp_path / "loud.wav"
    soundfile.write(path, tone(amp=4.0), RATE, subtype="FLOAT")
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
        assert_one_line_error(excinfo, fragment)


def test_integer_arrays_and_rate_pairs():
    pcm = (tone() * 32767).astype(np.int16)
    np.testing.assert_allclose(load_clip(pcm, RATE), tone(), atol=1 / 2**14)
    assert load_clip((tone(), RATE), 16000).shape == (2 * RATE,)


def test_concatenate_clips(tmp_path):
    soundfile.write(tmp_path / "a.wav", tone(0.5), RATE, subtype="PCM_16")
    soundfile.write(tmp_path / "b.wav", tone(0.25, rate=16000, channels=2), 16000, subtype="PCM_24")
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
