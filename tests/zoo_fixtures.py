"""What the zoo tests share: a tiny model, a made zoo, a pre-filled offline Hugging Face cache, a Hub mock.

Test modules import the fixtures they use (`from zoo_fixtures import made, offline_cache`).
"""
import hashlib
import json
import os
import pathlib
import shutil

import huggingface_hub
import keras
import numpy as np
import pytest
from huggingface_hub import constants as hf_constants

from aip_keras import atomic, zoo
from aip_keras.config import DistillConfig, TeacherConfig

REPO = pathlib.Path(__file__).resolve().parents[1]
TEACHER = "tiny-teacher-tiny_cnn"
STUDENT = "tiny-tiny_cnn-from-astronaut"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
FAKE_TOKEN = "hf_FakeTokenForTests0123456789abcdef"
KERAS_LOG = (
    "WARNING: noise\nEpoch 1/2\n\x1b[1m1/4\x1b[0m \x1b[37m━━━━━\x1b[0m 1s - loss: 2.3\x08\x08\x08\x08"
    "\r\x1b[1m4/4\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m0s\x1b[0m 9ms/step - accuracy: 0.5 - loss: 1.2\n"
    "\x1b[1m4/4\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m2s\x1b[0m 10ms/step - accuracy: 0.5 - loss: 1.2"
    " - val_accuracy: 0.6 - val_loss: 1.0\nEpoch 2/2\n\x1b[1m4/4\x1b[0m ━━━━━━━━━━━━━━━━━━━━ 1s 8ms/step - "
    "accuracy: 0.8 - loss: 0.7 - val_accuracy: 0.75 - val_loss: 0.8\n\nteacher test accuracy: 0.8125 (16 test images)\n"
)
ZOO_ENTRIES = sorted(json.loads((REPO / "zoo" / "index.json").read_text())["entries"])


def tiny_model(name="tiny"):
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Rescaling(2.0, offset=-1.0)(inputs)  # normalises inside, like the project's models
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="logits")(x), name=name)


def images(n=3):
    return np.random.default_rng(0).uniform(0, 1, (n, 12, 12, 1)).astype("float32")


def environment():
    return {"machine": "2-core x86_64, no GPU", "python": "3.11", "tensorflow": "2.x", "keras": "3.x",
            "git_commit": "abc1234"}


def teacher_run(config=None):
    """A run.json of `aip train-teacher` for the tiny teacher."""
    config = config or TeacherConfig(data="fashion_mnist", arch="tiny_cnn", epochs=2, train_limit=64).to_dict()
    return {"config": config, "test_accuracy": 0.8125, "test_top5": 1.0, "num_test_examples": 16,
            "class_names": ["a", "b", "c", "d"], "input_shape": [12, 12, 1], "wall_seconds": 61.0,
            "environment": environment()}


def make_run_dir(run_dir, teacher, source="astronaut"):
    """An `aip distill` output folder (student.keras, run.json, history.csv) distilled from `teacher`."""
    run_dir.mkdir(parents=True)
    tiny_model("student").save(run_dir / "student.keras")
    distill = DistillConfig(teacher=str(teacher), student="tiny_cnn", epochs=2, patches_per_epoch=256,
                            source=source).to_dict()
    atomic.write_json(run_dir / "run.json", {
        "config": distill, "teacher_accuracy": 0.8125, "student_accuracy": 0.5625, "agreement": 0.625,
        "metrics": {"teacher_top1": 0.8125, "student_top1": 0.5625, "student_top5": 1.0, "agreement": 0.625,
                    "num_examples": 16},
        "samples_seen": 512, "train_seconds": 12.0, "wall_seconds": 20.0, "stopped_by_time_budget": False,
        "student_input_shape": [12, 12, 1], "environment": environment(),
    })
    (run_dir / "history.csv").write_text("epoch,accuracy,loss\n0,0.3,1.5\n1,0.5,1.1\n")
    return run_dir


@pytest.fixture(scope="session")
def made(tmp_path_factory):
    """A zoo with a teacher entry (from a train-teacher-like run.json and log) and a student entry."""
    base = tmp_path_factory.mktemp("zoo")
    root = base / "zoo"
    teacher = tiny_model()
    folder = root / TEACHER
    atomic.save_model(teacher, folder)
    atomic.write_json(folder / "run.json", teacher_run())
    log = base / "teacher.log"
    log.write_text(KERAS_LOG)
    zoo.write_entry(folder, kind="teacher", log=log, zoo=root)
    run_dir = make_run_dir(base / "run", folder)
    zoo.write_entry(root / STUDENT, from_run=run_dir, zoo=root)
    student = keras.saving.load_model(run_dir / "student.keras")
    return {"root": root, "teacher": teacher, "student": student, "base": base}


def fill_hf_cache(cache, repo_id, folder, commit=COMMIT):
    """Lays `folder` out as huggingface_hub does: blobs by etag, snapshot symlinks, refs/main."""
    repo = pathlib.Path(cache) / f"models--{repo_id.replace('/', '--')}"
    for path in sorted(p for p in pathlib.Path(folder).rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".h5":  # an LFS file: its etag is the sha256
            etag = hashlib.sha256(data).hexdigest()
        else:  # a git blob: its etag is the git sha1
            etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        blob = repo / "blobs" / etag
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = repo / "snapshots" / commit / path.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return repo


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """A tmp HF_HOME / HF_HUB_CACHE with HF_HUB_OFFLINE=1, and no way to reach the Hub."""
    home = tmp_path / "hf_home"
    cache = home / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HOME", str(home))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)

    def no_network(*args, **kwargs):
        raise AssertionError("the Hub was called")

    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", no_network)
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_tree", no_network)
    return cache


def copy_zoo(made, tmp_path):
    """A private copy of the fixture zoo, for tests that change the index."""
    root = tmp_path / "zoo"
    shutil.copytree(made["root"], root)
    return root


@pytest.fixture
def hub_mock(monkeypatch):
    """Records HfApi.create_repo / upload_folder calls; nothing leaves the machine."""
    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"] = {"repo_id": repo_id, **kwargs, "token": self.token}
        return huggingface_hub.RepoUrl(f"https://huggingface.co/{repo_id}")

    def upload_folder(self, **kwargs):
        folder = pathlib.Path(kwargs["folder_path"])
        calls["files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        calls["upload_folder"] = {**kwargs, "token": self.token}
        if calls.get("fail"):
            raise RuntimeError(f"401 Client Error: Unauthorized (Authorization: Bearer {self.token})")
        return huggingface_hub.CommitInfo(
            commit_url=f"https://huggingface.co/{kwargs['repo_id']}/commit/{'a' * 40}",
            commit_message=kwargs["commit_message"], commit_description="", oid="a" * 40)

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    return calls
