"""Shared fixtures. Tests read real data from ../shared/data (or $AIP_SHARED_DATA)."""
import json
import os
import pathlib

import pytest
from helpers import aip

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# tfds must fail fast instead of retrying downloads on a machine without network.
os.environ.setdefault("TFDS_DATA_DIR", str(pathlib.Path(__file__).parent / ".tfds-empty"))

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data():
    path = pathlib.Path(os.environ.get("AIP_SHARED_DATA", REPO.parent / "shared" / "data"))
    assert path.is_dir(), f"shared data folder {path} is missing; set AIP_SHARED_DATA"
    return path


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def tiny_teacher(tmp_path_factory):
    """A Fashion-MNIST teacher trained here in seconds through `aip train-teacher`.

    Shared by test_cli.py and test_jobs.py (trained once per session); test_jobs_audio.py and
    test_benchmarks.py override the name with teachers of their own."""
    out = tmp_path_factory.mktemp("teacher") / "teacher.keras"
    result = aip("train-teacher", "--data=fashion_mnist", "--arch=tiny_cnn", "--epochs=3", "--learning_rate=0.005",
                 "--train_limit=3000", "--batch_size=128", f"--output={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "teacher test accuracy" in result.stdout
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["test_accuracy"] > 0.5  # a real, if brief, teacher
    return out
