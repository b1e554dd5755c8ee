"""aip_keras.zoo.entries: write_entry makes a card, eval results, a clean log and an index entry from a run."""
import hashlib
import json

import pytest
import yaml
from huggingface_hub import EvalResult, ModelCard, parse_eval_result_entries
from zoo_fixtures import STUDENT, TEACHER, made, make_run_dir, teacher_run, tiny_model  # noqa: F401

from aip_keras import atomic, zoo


def test_teacher_card_index_and_log(made):  # noqa: F811
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
    assert data.to_dict()["aip_keras"]["requires"] == ["keras"]
    assert "0.8125 on 16 Fashion-MNIST test images" in card.text
    assert "aip train-teacher --data=fashion_mnist --arch=tiny_cnn --epochs=2 --train_limit=64" in card.text
    assert f'load_model("hf://aip-keras/{TEACHER}")' in card.text
    assert "import aip_keras" not in card.text.split("## Reproduce")[0]  # plain Keras is enough

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
    assert entry["requires"] == ["keras"]
    assert entry["sha256"]["model.weights.h5"] == hashlib.sha256((folder / "model.weights.h5").read_bytes()).hexdigest()
    readme = (root / "README.md").read_text()
    assert f"[`{TEACHER}`]({TEACHER}/README.md)" in readme and "not published" in readme
    assert [e["name"] for e in zoo.list(root)] == sorted([STUDENT, TEACHER]) and all(e["local"] for e in zoo.list(root))


def test_student_entry_from_a_distill_run(made):  # noqa: F811
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
    # the run's absolute teacher path became the entry's zoo name, in run.json as on the card
    assert json.loads((folder / "run.json").read_text())["config"]["teacher"] == f"zoo:{TEACHER}"
    assert str(made["base"]) not in card.text
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


def test_a_runs_local_paths_never_reach_the_entry(made, tmp_path):  # noqa: F811
    """An absolute source file and teacher folder: the card, run.json, index and README show file names only."""
    root = tmp_path / "zoo"
    teacher = root / "t-teacher-tiny_cnn"
    atomic.save_model(tiny_model(), teacher)
    atomic.write_json(teacher / "run.json", teacher_run())
    zoo.write_entry(teacher, kind="teacher", zoo=root)
    secret = "/home/someone/private clips/speech-prompts.wav"
    run_dir = make_run_dir(tmp_path / "run", teacher.resolve(), source=secret)
    note = "speech prompts of a CC-BY-SA 3.0 sound pack, concatenated by a script"
    entry = zoo.write_entry(root / "t-tiny_cnn-from-speech", from_run=run_dir, zoo=root, source_note=note)
    assert entry["source"] == "speech-prompts.wav" and entry["source_note"] == note
    assert entry["base_model"] == "aip-keras/t-teacher-tiny_cnn"
    folder = root / "t-tiny_cnn-from-speech"
    run = json.loads((folder / "run.json").read_text())
    assert run["config"]["source"] == "speech-prompts.wav" and run["config"]["teacher"] == "zoo:t-teacher-tiny_cnn"
    assert run["source_note"] == note
    card = (folder / "README.md").read_text()
    assert f"`speech-prompts.wav` ({note})" in card and "--source=<path to speech-prompts.wav>" in card
    for path in (folder / "README.md", folder / "run.json", root / "index.json", root / "README.md"):
        text = path.read_text()
        assert "/home/" not in text and str(tmp_path) not in text, path
    # regenerating the card keeps the note (it lives in run.json)
    again = zoo.write_entry(folder, zoo=root)
    assert again["source_note"] == note and again == {**entry, "folder": again["folder"]}
