"""The model zoo without a network: cards, index, HF-cache loading offline, safety, publish (mocked)."""
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import huggingface_hub
import keras
import numpy as np
import pytest
import yaml
from huggingface_hub import EvalResult, ModelCard, parse_eval_result_entries
from huggingface_hub import constants as hf_constants

from aip_keras import atomic, jobs, teachers, zoo

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


def tiny_model(name="tiny"):
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Rescaling(2.0, offset=-1.0)(inputs)  # normalises inside, like the project's models
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="logits")(x), name=name)


def _images(n=3):
    return np.random.default_rng(0).uniform(0, 1, (n, 12, 12, 1)).astype("float32")


def _environment():
    return {"machine": "2-core x86_64, no GPU", "python": "3.11", "tensorflow": "2.x", "keras": "3.x",
            "git_commit": "abc1234"}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A zoo with a teacher entry (from a train-teacher-like run.json and log) and a student entry."""
    base = tmp_path_factory.mktemp("zoo")
    root = base / "zoo"
    teacher = tiny_model()
    folder = root / TEACHER
    atomic.save_model(teacher, folder)
    config = jobs.TeacherConfig(data="fashion_mnist", arch="tiny_cnn", epochs=2, train_limit=64).to_dict()
    atomic.write_json(folder / "run.json", {
        "config": config, "test_accuracy": 0.8125, "test_top5": 1.0, "num_test_examples": 16,
        "class_names": ["a", "b", "c", "d"], "input_shape": [12, 12, 1], "wall_seconds": 61.0,
        "environment": _environment(),
    })
    log = base / "teacher.log"
    log.write_text(KERAS_LOG)
    zoo.write_entry(folder, kind="teacher", log=log, zoo=root)

    run_dir = base / "run"
    run_dir.mkdir()
    student = tiny_model("student")
    student.save(run_dir / "student.keras")
    distill = jobs.DistillConfig(teacher=str(folder), student="tiny_cnn", epochs=2, patches_per_epoch=256).to_dict()
    atomic.write_json(run_dir / "run.json", {
        "config": distill, "teacher_accuracy": 0.8125, "student_accuracy": 0.5625, "agreement": 0.625,
        "metrics": {"teacher_top1": 0.8125, "student_top1": 0.5625, "student_top5": 1.0, "agreement": 0.625,
                    "num_examples": 16},
        "samples_seen": 512, "train_seconds": 12.0, "wall_seconds": 20.0, "stopped_by_time_budget": False,
        "student_input_shape": [12, 12, 1], "environment": _environment(),
    })
    (run_dir / "history.csv").write_text("epoch,accuracy,loss\n0,0.3,1.5\n1,0.5,1.1\n")
    zoo.write_entry(root / STUDENT, from_run=run_dir, zoo=root)
    return {"root": root, "teacher": teacher, "student": student, "base": base}


def _hf_cache(cache, repo_id, folder, commit=COMMIT):
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


def _copy_zoo(made, tmp_path):
    """A private copy of the fixture zoo, for tests that change the index."""
    root = tmp_path / "zoo"
    shutil.copytree(made["root"], root)
    return root


# --------------------------------------------------------------------------- cards and index


def test_teacher_card_index_and_log(made):
    root = made["root"]
    folder = root / TEACHER
    run = json.loads((folder / "run.json").read_text())
    card = ModelCard.load(folder / "README.md")
    data = card.data
    assert data.library_name == "keras" and data.license == "apache-2.0"
    assert data.datasets == ["zalando-datasets/fashion_mnist"] and data.base_model is None
    assert {"keras", "image-classification", "aip-keras", "teacher"} <= set(data.tags)
    (result,) = data.eval_results
    assert isinstance(result, EvalResult) and data.model_name == TEACHER
    assert (result.task_type, result.metric_type, result.dataset_split) == ("image-classification", "accuracy", "test")
    assert result.metric_value == run["test_accuracy"]  # the number comes from run.json
    assert data.to_dict()["aip_keras"]["input_spec"]["size"] == [12, 12]
    assert "0.8125 on 16 Fashion-MNIST test images" in card.text
    assert "aip train-teacher --data=fashion_mnist --arch=tiny_cnn --epochs=2 --train_limit=64" in card.text
    assert f'load_model("hf://aip-keras/{TEACHER}")' in card.text

    (entry,) = parse_eval_result_entries(yaml.safe_load((folder / ".eval_results" / "fashion_mnist.yaml").read_text()))
    assert entry.dataset_id == "zalando-datasets/fashion_mnist" and entry.value == run["test_accuracy"]

    log = (folder / "training_log.txt").read_text()
    assert "\x1b" not in log and "\x08" not in log and "━" not in log and "WARNING" not in log
    assert log.splitlines()[1:] == [
        "Epoch 1/2",
        "4/4 - 2s 10ms/step - accuracy: 0.5 - loss: 1.2 - val_accuracy: 0.6 - val_loss: 1.0",
        "Epoch 2/2",
        "4/4 - 1s 8ms/step - accuracy: 0.8 - loss: 0.7 - val_accuracy: 0.75 - val_loss: 0.8",
        "teacher test accuracy: 0.8125 (16 test images)",
    ]

    index = json.loads((root / "index.json").read_text())["entries"]
    entry = index[TEACHER]
    assert entry["repo_id"] == f"aip-keras/{TEACHER}" and entry["revision"] is None and entry["published"] is False
    assert entry["accuracy"] == run["test_accuracy"] and entry["folder"] == TEACHER
    assert entry["sha256"]["model.weights.h5"] == hashlib.sha256((folder / "model.weights.h5").read_bytes()).hexdigest()
    readme = (root / "README.md").read_text()
    assert f"[`{TEACHER}`]({TEACHER}/README.md)" in readme and "not published" in readme
    assert [e["name"] for e in zoo.list(root)] == sorted([STUDENT, TEACHER]) and all(e["local"] for e in zoo.list(root))


def test_student_entry_from_a_distill_run(made):
    root = made["root"]
    folder = root / STUDENT
    assert sorted(p.name for p in folder.iterdir()) == [
        ".eval_results", "README.md", "assets", "config.json", "metadata.json", "model.weights.h5", "run.json",
        "training_log.txt"]
    card = ModelCard.load(folder / "README.md")
    assert card.data.base_model == f"aip-keras/{TEACHER}"  # the teacher's repo, found from the run's teacher path
    assert "knowledge-distillation" in card.data.tags
    assert card.data.eval_results[0].metric_value == 0.5625
    assert "| Teacher accuracy | 0.8125" in card.text and "`astronaut`" in card.text and "512 augmented" in card.text
    assert f"--teacher=zoo:{TEACHER}" in card.text  # the reproduce command does not depend on this machine
    assert (folder / "training_log.txt").read_text().startswith("epoch,accuracy,loss")
    entry = zoo.info(STUDENT, zoo=root)
    assert entry["kind"] == "student" and entry["teacher_accuracy"] == 0.8125 and entry["source"] == "astronaut"
    with pytest.raises(ValueError, match="already exists"):
        zoo.write_entry(folder, from_run=made["base"] / "run", zoo=root)


def test_write_entry_needs_run_json(tmp_path):
    atomic.save_model(tiny_model(), tmp_path / "zoo" / "x")
    with pytest.raises(ValueError, match="no run.json"):
        zoo.write_entry(tmp_path / "zoo" / "x", zoo=tmp_path / "zoo")
    with pytest.raises(ValueError, match="not inside the zoo folder"):
        zoo.write_entry(tmp_path / "zoo" / "x", zoo=tmp_path / "elsewhere")


def test_clean_log_keeps_the_last_run_only():
    text = "Epoch 1/3\n3/3 ━━ 1s - loss: 9\nEpoch 2/3\n" + KERAS_LOG
    assert zoo.clean_log(text).splitlines()[0:2] == ["Epoch 1/2", "4/4 - 2s 10ms/step - accuracy: 0.5 - loss: "
                                                      "1.2 - val_accuracy: 0.6 - val_loss: 1.0"]
    with pytest.raises(ValueError, match="no Keras epoch lines"):
        zoo.clean_log("nothing here")


# --------------------------------------------------------------------------- load


def test_load_prefers_the_local_folder(made, monkeypatch):
    root = made["root"]
    loaded = zoo.load(TEACHER, zoo=root)
    model, spec = loaded
    assert loaded.source == "local" and loaded.folder == root / TEACHER and loaded.sample_rate is None
    assert (spec.size, spec.channels, spec.value_range) == ((12, 12), 1, (0.0, 1.0))
    np.testing.assert_allclose(model(_images()).numpy(), made["teacher"](_images()).numpy(), atol=1e-6)
    assert zoo.load(f"aip-keras/{TEACHER}", zoo=root).name == TEACHER  # by repo id too
    monkeypatch.setenv("AIP_ZOO_DIR", str(root))
    teacher, teacher_spec = teachers.load_teacher(f"zoo:{STUDENT}")  # a zoo student as a teacher
    assert teacher.trainable is False and teacher_spec.size == (12, 12)
    with pytest.raises(ValueError, match="not in the zoo index"):
        zoo.info("someone/nope", zoo=root)
    with pytest.raises(ValueError, match="neither a zoo entry nor a Hub repo id"):
        zoo.load("nope", zoo=root)


def test_load_through_the_hf_cache_offline(made, offline_cache, tmp_path):
    root = _copy_zoo(made, tmp_path)
    repo_id = f"aip-keras/{TEACHER}"
    _hf_cache(offline_cache, repo_id, root / TEACHER)
    scanned = huggingface_hub.scan_cache_dir(offline_cache)  # huggingface_hub accepts the layout
    assert not scanned.warnings and [r.repo_id for r in scanned.repos] == [repo_id]

    # not published (revision null): refs/main of the cache, the real snapshot_download code path
    loaded = zoo.load(TEACHER, zoo=root, prefer_local=False)
    assert loaded.source == "cache" and loaded.folder == offline_cache / f"models--aip-keras--{TEACHER}" / \
        "snapshots" / COMMIT
    np.testing.assert_allclose(loaded.model(_images()).numpy(), made["teacher"](_images()).numpy(), atol=1e-6)

    # pinned: the index revision selects the snapshot; the local folder is absent
    index = zoo.read_index(root)
    index["entries"][TEACHER].update(revision=COMMIT, published=True)
    atomic.write_json(root / "index.json", index)
    shutil.rmtree(root / TEACHER)
    loaded = zoo.load(TEACHER, zoo=root)
    assert loaded.source == "cache" and loaded.revision == COMMIT

    out = tmp_path / "pulled"
    assert zoo.pull(TEACHER, output=out, zoo=root) == out
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        p.name for p in (offline_cache / f"models--aip-keras--{TEACHER}" / "snapshots" / COMMIT).iterdir()
        if not p.name.startswith("."))
    assert not any(p.name.startswith(".pulled") for p in tmp_path.iterdir())  # no temporary folder left

    with pytest.raises(ValueError, match="not in the Hugging Face cache .* cannot be reached"):
        zoo.load(TEACHER, revision="f" * 40, zoo=root)
    with pytest.raises(ValueError, match="not in the Hugging Face cache .* cannot be reached"):
        zoo.load("someone/not-cached", zoo=root)


def test_unpublished_entry_without_folder_or_cache(made, offline_cache, tmp_path):
    root = _copy_zoo(made, tmp_path)
    shutil.rmtree(root / STUDENT)
    with pytest.raises(ValueError, match=f"zoo entry '{STUDENT}' is not published yet"):
        zoo.load(STUDENT, zoo=root)


def test_tampered_files_are_refused(made, offline_cache, tmp_path):
    root = _copy_zoo(made, tmp_path)
    weights = root / TEACHER / "model.weights.h5"
    weights.write_bytes(weights.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="model.weights.h5 .* does not match the index"):
        zoo.load(TEACHER, zoo=root)


def test_unknown_custom_objects_and_lambda_are_refused(tmp_path):
    folder = tmp_path / "m"
    atomic.save_model(tiny_model(), folder)
    config = json.loads((folder / "config.json").read_text())
    layer = config["config"]["layers"][-1]
    layer.update(module="evil_pkg.layers", class_name="Backdoor", registered_name="evil_pkg>Backdoor")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"custom objects .*\(evil_pkg>Backdoor\): refusing to load"):
        zoo.load_folder(folder)

    inputs = keras.Input((12, 12, 1))
    lam = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(
        inputs))))
    atomic.save_model(lam, tmp_path / "lambda")
    with pytest.raises(ValueError, match="Lambda layer"):
        zoo.load_folder(tmp_path / "lambda")


# --------------------------------------------------------------------------- publish


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


EXPECTED_FILES = [".eval_results/fashion_mnist.yaml", "README.md", "config.json", "metadata.json",
                  "model.weights.h5", "run.json", "training_log.txt"]


def test_publish_dry_run_writes_the_exact_folder(made, tmp_path, hub_mock):
    root = _copy_zoo(made, tmp_path)
    (root / TEACHER / "scratch.tmp").write_text("not for the Hub")
    out = tmp_path / "dry"
    result = zoo.publish(TEACHER, dry_run=True, output=out, zoo=root)
    assert result["dry_run"] and result["revision"] is None and "create_repo" not in hub_mock
    assert result["files"] == EXPECTED_FILES
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == EXPECTED_FILES
    assert result["upload_folder"] == {"repo_id": f"aip-keras/{TEACHER}", "repo_type": "model",
                                       "folder_path": str(out), "delete_patterns": ["*"],
                                       "commit_message": f"Upload {TEACHER} (aip_keras 0.1.0)"}
    zoo.load_folder(out)
    assert zoo.read_index(root)["entries"][TEACHER]["published"] is False


def test_publish_uploads_and_pins_the_revision(made, tmp_path, hub_mock, capsys):
    root = _copy_zoo(made, tmp_path)
    result = zoo.publish(TEACHER, zoo=root, private=True)
    assert hub_mock["create_repo"] == {"repo_id": f"aip-keras/{TEACHER}", "repo_type": "model", "exist_ok": True,
                                       "private": True, "token": FAKE_TOKEN}
    upload = hub_mock["upload_folder"]
    assert upload["repo_id"] == f"aip-keras/{TEACHER}" and upload["repo_type"] == "model"
    assert upload["delete_patterns"] == ["*"] and upload["token"] == FAKE_TOKEN
    assert hub_mock["files"] == EXPECTED_FILES
    assert not pathlib.Path(upload["folder_path"]).exists()  # the staging folder is gone
    assert result["revision"] == "a" * 40
    entry = zoo.read_index(root)["entries"][TEACHER]
    assert entry["revision"] == "a" * 40 and entry["published"] is True
    assert "`aaaaaaaaaaaa`" in (root / "README.md").read_text()
    assert FAKE_TOKEN not in capsys.readouterr().out + json.dumps(result, default=str)

    with pytest.raises(ValueError, match="recorded for"):
        zoo.publish(TEACHER, repo_id="someone/else", zoo=root)


def test_publish_never_shows_the_token(made, tmp_path, hub_mock, monkeypatch):
    root = _copy_zoo(made, tmp_path)
    hub_mock["fail"] = True
    with pytest.raises(ValueError) as info:
        zoo.publish(TEACHER, zoo=root)
    message = str(info.value)
    assert "publishing to aip-keras/" in message and "***" in message and FAKE_TOKEN not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert zoo.read_index(root)["entries"][TEACHER]["published"] is False

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(ValueError, match="no Hugging Face token: set HF_TOKEN"):
        zoo.publish(TEACHER, zoo=root)


def test_publish_a_model_object_dry_run(tmp_path):
    result = zoo.publish(tiny_model(), repo_id="someone/tiny", dry_run=True, output=tmp_path / "out")
    assert result["files"] == ["README.md", "config.json", "metadata.json", "model.weights.h5"]
    assert ModelCard.load(tmp_path / "out" / "README.md").data.library_name == "keras"


# --------------------------------------------------------------------------- CLI and the real entry


def _aip(*args, env=None):
    return subprocess.run([sys.executable, "-m", "aip_keras.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, cwd=REPO)


def test_cli_list_and_push_dry_run(made, tmp_path):
    env = {"AIP_ZOO_DIR": str(made["root"]), "HF_TOKEN": FAKE_TOKEN, "HF_HUB_OFFLINE": "1"}
    listed = _aip("zoo", "list", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert TEACHER in listed.stdout and STUDENT in listed.stdout and "unpublished" in listed.stdout
    pushed = _aip("zoo", "push", TEACHER, "--dry_run", f"--output={tmp_path / 'dry'}", env=env)
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    assert "dry run: 7 files" in pushed.stdout and (tmp_path / "dry" / "README.md").is_file()
    assert FAKE_TOKEN not in pushed.stdout + pushed.stderr
    missing = _aip("zoo", "pull", "nope", env=env)
    assert missing.returncode == 1 and "aip zoo: error: 'nope' is neither" in missing.stderr


REAL = REPO / "zoo" / "fashion_mnist-teacher-small_cnn"


@pytest.mark.skipif(not (REAL / "README.md").is_file(), reason="the Fashion-MNIST teacher entry is not written yet")
def test_the_fashion_mnist_teacher_entry(offline_cache):
    run = json.loads((REAL / "run.json").read_text())
    card = ModelCard.load(REAL / "README.md")
    assert card.data.library_name == "keras" and card.data.eval_results[0].metric_value == run["test_accuracy"]
    entry = zoo.info("fashion_mnist-teacher-small_cnn")
    assert entry["accuracy"] == run["test_accuracy"] and entry["repo_id"] == "aip-keras/fashion_mnist-teacher-small_cnn"
    model, spec = teachers.load_teacher("zoo:fashion_mnist-teacher-small_cnn")
    assert model.output_shape == (None, 10) and (spec.size, spec.channels) == ((28, 28), 1)
    assert "Epoch 1/" in (REAL / "training_log.txt").read_text()
    with pytest.raises(ValueError, match="not published yet .its local folder is"):
        zoo.pull("fashion_mnist-teacher-small_cnn")
    _hf_cache(offline_cache, entry["repo_id"], REAL)  # the entry as the Hub would serve it
    loaded = zoo.load("fashion_mnist-teacher-small_cnn", prefer_local=False)
    assert loaded.source == "cache" and loaded.model.output_shape == (None, 10)


@pytest.mark.parametrize("name", sorted(json.loads((REPO / "zoo" / "index.json").read_text())["entries"]))
def test_every_zoo_entry(name, offline_cache):
    """Each committed entry: a valid card whose numbers are its run.json's, and it loads from the HF cache."""
    entry = zoo.info(name)
    folder = REPO / "zoo" / entry["folder"]
    run = json.loads((folder / "run.json").read_text())
    card = ModelCard.load(folder / "README.md")
    accuracy = run["test_accuracy"] if entry["kind"] == "teacher" else run["student_accuracy"]
    assert card.data.library_name == "keras" and card.data.eval_results[0].metric_value == accuracy
    assert entry["accuracy"] == accuracy and card.data.base_model == entry["base_model"]
    if entry["kind"] == "student":
        assert entry["base_model"] in {e["repo_id"] for e in zoo.list()} and entry["source"]
    _hf_cache(offline_cache, entry["repo_id"], folder)
    loaded = zoo.load(name, prefer_local=False)
    assert loaded.source == "cache" and loaded.model.output_shape == (None, entry["num_classes"])
    if entry["input_spec"].get("modality") == "audio":
        assert card.data.pipeline_tag == "audio-classification" and loaded.input_spec is None
        assert loaded.sample_rate == entry["input_spec"]["sample_rate"]
        assert loaded.model.inputs[0].shape[1] == entry["input_spec"]["samples"]
    elif entry["input_spec"].get("modality") == "video":
        assert card.data.pipeline_tag == "video-classification" and loaded.input_spec is None
        assert tuple(loaded.model.inputs[0].shape[1:3]) == (entry["input_spec"]["frames"],
                                                           entry["input_spec"]["size"][0])
    else:
        assert card.data.pipeline_tag == "image-classification"
        assert (tuple(loaded.input_spec.size), loaded.input_spec.channels) == tuple(
            (tuple(entry["input_spec"]["size"]), entry["input_spec"]["channels"]))


def test_an_installed_wheel_carries_the_index_and_default_teachers(tmp_path):
    """setup.py's build_py copies zoo/index.json and the default teachers into the package (pip users)."""
    built = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    packaged = tmp_path / "aip_keras" / "data" / "zoo"
    assert {e["name"] for e in zoo.list(zoo=packaged)} == set(zoo.read_index()["entries"])
    model, spec = zoo.load("fashion_mnist-teacher-small_cnn", zoo=packaged)  # sha256-checked local copy
    assert model.output_shape == (None, 10) and spec.channels == 1
    assert zoo.load("fsdd-teacher-audio_cnn", zoo=packaged).sample_rate == 16000
