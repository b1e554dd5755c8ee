"""Tests for aip_keras.sources.audio: the crop chain, the single-clip stream and its config."""
import numpy as np
import pytest
import soundfile
from helpers import assert_one_line_error, eager_and_mapped, tone

from aip_keras.decode.audio import load_clip
from aip_keras.sources.audio import AudioChain, SingleClipSource

RATE = 8000


def test_clip_shorter_than_the_crop(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, tone(seconds=0.5), RATE)
    with pytest.raises(ValueError) as excinfo:
        SingleClipSource(path, sample_rate=RATE, crop_seconds=1.0)
    assert_one_line_error(excinfo, "shorter than one 1 s crop", "--crop_seconds")


def test_chain_batches_are_seeded_and_bounded():
    clip = load_clip("noise", RATE)
    chain = AudioChain(RATE, crop_seconds=0.25)
    a = chain(clip, 8, seed=0).numpy()
    assert a.shape == (8, 2000) and np.abs(a).max() <= 1.0 + 1e-6
    np.testing.assert_array_equal(a, chain(clip, 8, seed=0).numpy())
    assert not np.array_equal(a, chain(clip, 8, seed=1).numpy())
    eager, mapped = eager_and_mapped(lambda c: chain(c, 8, 0), clip)
    np.testing.assert_array_equal(eager, a)
    np.testing.assert_allclose(mapped, a, atol=1e-6)


def test_source_stream_and_config_round_trip(tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, np.concatenate([tone(1.0, freq=f) for f in (200, 400, 800)]), RATE, subtype="PCM_24")
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
        SingleClipSource.from_config(SingleClipSource(tone(2.0), sample_rate=RATE).get_config())


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
    assert_one_line_error(excinfo, fragment)
