"""Shared fixtures. Tests read real data from ../shared/data (or $AIP_SHARED_DATA)."""
import os
import pathlib

import pytest

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
