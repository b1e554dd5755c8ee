"""Audio jobs end to end on a tiny budget: train an FSDD teacher, distil from a synthetic clip, the CLI.

The FSDD and audio-folder sets are tested in test_datasets_audio.py, the audio recipe in test_config.py."""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile

from aip_keras import jobs
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
