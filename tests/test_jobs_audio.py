"""Audio end to end on a tiny budget: FSDD sets, train a teacher, distil from a synthetic clip."""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile

from aip_keras import datasets, jobs
from aip_keras.teachers import load_audio_model
from aip_keras.config import DistillConfig, TeacherConfig

RATE = 8000  # FSDD's own rate: no resampling cost in the tests
TINY = {"widths": [8, 16], "dropout": 0.0}


def _synthetic_clip(path, seconds=6.0, rate=RATE):
    """Tones, chirps and noise bursts: a clip with speech-band energy and some structure."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    f = 300 + 250 * np.sin(2 * np.pi * 0.7 * t) + 600 * (t % 1.0)
    x = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / rate) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x += rng.normal(0, 0.02, len(t)) * (t % 0.5 < 0.1)
    soundfile.write(path, x.astype(np.float32), rate, subtype="PCM_16")
    return path


def test_fsdd_sets(shared_data):
    train = datasets.load_audio("fsdd", "train", data_dir=shared_data, sample_rate=RATE)
    test = datasets.load("fsdd", "test")  # the image-style entry point: 1 s at 16 kHz
    assert (train.num_examples, train.num_classes, train.image_shape, train.sample_rate) == (2700, 10, (8000,), 8000)
    assert (test.num_examples, test.image_shape, test.sample_rate) == (300, (16000,), 16000)
    x, y = train.arrays()
    assert x.dtype == np.float32 and y.dtype == np.int32 and np.abs(x).max() <= 1.0
    assert np.array_equal(np.bincount(y), [270] * 10)
    fit, val = datasets.split_validation(train, 0.1)
    xb, yb = next(iter(val.dataset(32, shuffle=True)))
    assert xb.shape == (32, 8000) and yb.dtype == "int32"
    with pytest.raises(ValueError, match="splits 'train' and 'test'"):
        datasets.load_audio("fsdd", "valid")


def test_audio_folder_set(tmp_path):
    for label, freq in (("high", 1200.0), ("low", 200.0)):
        (tmp_path / label).mkdir()
        for i, (rate, subtype) in enumerate(((8000, "PCM_16"), (16000, "FLOAT"), (11025, "PCM_24"))):
            t = np.arange(int(0.6 * rate)) / rate
            tone = (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
            soundfile.write(tmp_path / label / f"{i}.wav", np.stack([tone, tone], -1), rate, subtype=subtype)
    data = datasets.load_audio(tmp_path, sample_rate=RATE, clip_seconds=0.5)
    assert data.class_names == ("high", "low") and data.num_examples == 6
    x, y = data.arrays()
    assert x.shape == (6, 4000) and list(y) == [0, 0, 0, 1, 1, 1]
    (tmp_path / "low" / "3.wav").write_text("not audio")
    with pytest.raises(ValueError, match="cannot read audio file"):
        datasets.load_audio(tmp_path)


def test_tfds_audio_offline_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("AIP_OFFLINE", "1")
    with pytest.raises(ValueError) as excinfo:
        datasets.load_audio("tfds:speech_commands", data_dir=tmp_path)
    assert "cannot be downloaded (no network)" in str(excinfo.value) and "\n" not in str(excinfo.value)


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    """An FSDD teacher trained in seconds on a small subset (8 kHz, tiny widths)."""
    out = tmp_path_factory.mktemp("audio-teacher") / "teacher"
    config = TeacherConfig(modality="audio", data="fsdd", arch="audio_cnn", arch_kwargs=TINY, epochs=2,
                                batch_size=64, learning_rate=5e-3, train_limit=512, sample_rate=RATE)
    result = jobs.train_teacher(config, out, verbose=0)
    assert result["modality"] == "audio" and result["input_shape"] == [RATE]
    assert result["test_accuracy"] > 0.15  # above chance (0.1) after a few seconds
    return out


def test_distil_from_a_synthetic_clip(tiny_teacher, tmp_path):
    clip = _synthetic_clip(tmp_path / "clip.wav")
    config = DistillConfig(modality="audio", teacher=str(tiny_teacher), source=str(clip),
                                student_kwargs=TINY, epochs=1, patches_per_epoch=128, batch_size=32,
                                val_limit=64, eval_limit=128)
    assert (config.student, config.eval, config.augment) == ("audio_cnn", "fsdd", "audio")
    out = tmp_path / "run"
    result = jobs.run_distillation(config, out, verbose=0)
    assert result["samples_seen"] == 128 and result["metrics"]["num_examples"] == 128
    assert result["sample_rate"] == RATE and result["student_input_shape"] == [RATE]
    assert 0.0 <= result["student_accuracy"] <= 1.0
    student, fmt = load_audio_model(out / "student.keras")
    assert fmt == {"sample_rate": RATE, "samples": RATE}
    assert json.loads((out / "run.json").read_text())["config"]["modality"] == "audio"


def test_cli_distill_audio(tiny_teacher, tmp_path):
    def aip(*args):
        return subprocess.run([sys.executable, "-m", "aip_keras.cli", *args], capture_output=True, text=True,
                              timeout=300)

    clip = _synthetic_clip(tmp_path / "clip.wav")
    base = ["distill", "--modality=audio", f"--teacher={tiny_teacher}", "--epochs=1", "--patches_per_epoch=64",
            "--batch_size=32", "--val_limit=64", "--eval_limit=64", f"--student_kwargs={json.dumps(TINY)}"]
    ok = aip(*base, f"--source={clip}", "--augment=none", f"--output_dir={tmp_path / 'run'}")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "student accuracy:" in ok.stdout
    keras.saving.load_model(tmp_path / "run" / "student.keras")  # registered layers: loads in safe mode
    bad = aip(*base, "--source=noise", "--sample_rate=16000", f"--output_dir={tmp_path / 'bad'}")
    last = bad.stderr.strip().splitlines()[-1]  # earlier lines: TensorFlow's own start-up logging
    assert bad.returncode == 1 and last.startswith("aip distill: error: teacher takes 8000 Hz waveforms"), last
    assert not (tmp_path / "bad" / "student.keras").exists()


def test_distill_bad_inputs_are_one_line(tiny_teacher, tmp_path):
    from aip_keras import models

    short = _synthetic_clip(tmp_path / "short.wav", seconds=0.5)
    image_teacher = tmp_path / "image.keras"
    models.build("tiny_cnn", (28, 28, 1), 10).save(image_teacher)
    base = {"modality": "audio", "teacher": str(tiny_teacher), "source": "noise", "epochs": 1,
            "patches_per_epoch": 32, "batch_size": 32}
    for extra, fragment in (
        ({"source": str(short)}, "shorter than one 1 s crop"),
        ({"crop_seconds": 0.5}, "drop --crop_seconds"),
        ({"teacher": str(image_teacher)}, "not raw waveforms"),
        ({"source": str(tmp_path / "nothing.wav")}, "does not exist"),
        ({"student": "tiny_cnn"}, "not an audio model"),
        ({"eval": "cifar10"}, "unknown audio dataset"),
    ):
        with pytest.raises(ValueError) as excinfo:
            jobs.run_distillation(DistillConfig(**{**base, **extra}), tmp_path / "bad", verbose=0)
        assert fragment in str(excinfo.value) and "\n" not in str(excinfo.value), (extra, str(excinfo.value))
        assert not (tmp_path / "bad" / "student.keras").exists()
    for values, fragment in (({"augment": "imagenet"}, "is not for modality audio"), ({"patch_size": 32}, "image options"),
                             ({"modality": "text"}, "unknown modality")):
        with pytest.raises(ValueError, match=fragment):
            DistillConfig(**{**base, **values})
    with pytest.raises(ValueError, match="not an audio model"):
        jobs.train_teacher(TeacherConfig(modality="audio", arch="small_cnn"), tmp_path / "t", verbose=0)


def test_bare_audio_modality_uses_the_audio_recipe_and_the_zoo_teacher():
    config = DistillConfig(modality="audio")
    assert (config.teacher, config.student, config.eval, config.augment) == (
        "zoo:fsdd-teacher-audio_cnn", "audio_cnn", "fsdd", "audio")
    assert (config.temperature, config.learning_rate, config.batch_size) == (4.0, 4e-3, 32)
    chosen = DistillConfig(modality="audio", temperature=2.0, batch_size=64)
    assert (chosen.temperature, chosen.batch_size, chosen.learning_rate) == (2.0, 64, 4e-3)
    teacher, fmt = load_audio_model(config.teacher)  # the zoo entry, through aip_keras.zoo
    assert fmt == {"sample_rate": 16000, "samples": 16000} and teacher.output_shape == (None, 10)
