"""aip_keras.zoo.publish: the staged folder, the upload (mocked), the pinned revision, the token; and the CLI."""
import json
import os
import pathlib
import subprocess
import sys

import huggingface_hub
import pytest
from huggingface_hub import ModelCard
from zoo_fixtures import FAKE_TOKEN, REPO, STUDENT, TEACHER, copy_zoo, hub_mock, made, tiny_model  # noqa: F401

from aip_keras import zoo

EXPECTED_FILES = [".eval_results/fashion_mnist.yaml", "README.md", "config.json", "metadata.json",
                  "model.weights.h5", "run.json", "training_log.txt"]


def test_publish_dry_run_writes_the_exact_folder(made, tmp_path, hub_mock):  # noqa: F811
    root = copy_zoo(made, tmp_path)
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


def test_publish_uploads_and_pins_the_revision(made, tmp_path, hub_mock, capsys):  # noqa: F811
    root = copy_zoo(made, tmp_path)
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


def test_publish_never_shows_the_token(made, tmp_path, hub_mock, monkeypatch):  # noqa: F811
    root = copy_zoo(made, tmp_path)
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
    card = ModelCard.load(tmp_path / "out" / "README.md")
    assert card.data.library_name == "keras" and 'load_model("hf://someone/tiny")' in card.text


def _aip(*args, env=None):
    return subprocess.run([sys.executable, "-m", "aip_keras.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, cwd=REPO)


def test_cli_list_and_push_dry_run(made, tmp_path):  # noqa: F811
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
