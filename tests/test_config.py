"""Config validation, and the modality recipes applied only to what the user left unset."""

import dataclasses
import json
import math
import shutil
import subprocess

import pytest

from aip_keras.config import RECIPES, TEACHER_RECIPES, DistillConfig, TeacherConfig, make_optimizer
from aip_keras.teachers import load_audio_model


@pytest.mark.parametrize("modality", ["audio", "video"])
def test_a_bare_modality_takes_its_whole_recipe(modality):
    config = DistillConfig(modality=modality)
    assert {name: getattr(config, name) for name in RECIPES[modality]} == RECIPES[modality]
    assert config.given == {"modality"}


@pytest.mark.parametrize("field, value", [
    ("temperature", 8.0),                                # equal to the image default: still the user's
    ("learning_rate", 2e-3),
    ("teacher", "zoo:fashion_mnist-teacher-small_cnn"),
    ("batch_size", 128),
    ("temperature", 2.5),
    ("batch_size", 16),
])
@pytest.mark.parametrize("modality", ["audio", "video"])
def test_an_explicit_value_always_wins_over_the_recipe(modality, field, value):
    config = DistillConfig(modality=modality, **{field: value})
    assert getattr(config, field) == value
    others = {k: v for k, v in RECIPES[modality].items() if k != field}
    assert {k: getattr(config, k) for k in others} == others


def test_teacher_config_recipes_fill_only_unset_fields():
    assert (TeacherConfig(modality="audio").arch, TeacherConfig(modality="audio").data) == ("audio_cnn", "fsdd")
    assert TeacherConfig(modality="audio", arch="small_cnn").arch == "small_cnn"
    assert TeacherConfig(modality="video", data="cifar10_clips").arch == TEACHER_RECIPES["video"]["arch"]


def test_a_dict_round_trip_is_the_same_run():
    config = DistillConfig(modality="audio", temperature=8.0, epochs=2)
    again = DistillConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.temperature == 8.0 and again.student == "audio_cnn"
    assert dataclasses.replace(config, epochs=3).temperature == 8.0


@pytest.mark.parametrize("values, fragment", [
    ({"temperature": 0.0}, "temperature must be a finite number > 0"),
    ({"temperature": math.inf}, "temperature must be a finite number > 0"),
    ({"learning_rate": math.nan}, "learning_rate must be a finite number > 0"),
    ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0"),
    ({"epochs": 0}, "epochs must be a finite number >= 1"),
    ({"batch_size": 1.5}, "batch_size must be of type int"),
    ({"time_budget_minutes": -1.0}, "time_budget_minutes must be a finite number >= 0"),
    ({"modality": "text"}, "unknown modality 'text'"),
    ({"augment": "audio"}, "augment preset 'audio' is not for modality image"),
    ({"modality": "audio", "augment": "cifar"}, "augment preset 'cifar' is not for modality audio"),
    ({"augment_overrides": {"cutmix": 0}}, "unknown augment_overrides ['cutmix']"),
    ({"source": "real-train", "patch_bank": 10}, "drop patch_bank and chain"),
    ({"modality": "audio", "patch_size": 32}, "patch_size and patch_bank are image options"),
    ({"optimizer": "lion"}, "unknown optimizer 'lion'"),
    ({"schedule": "step"}, "unknown schedule 'step'"),
    ({"teacher_outputs": "scores"}, "unknown teacher_outputs 'scores'"),
])
def test_distill_config_rejects_bad_values_in_one_line(values, fragment):
    with pytest.raises(ValueError) as error:
        DistillConfig(**values)
    assert fragment in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("values, fragment", [
    ({"epochs": -1}, "epochs must be a finite number >= 1"),
    ({"learning_rate": math.nan}, "learning_rate must be a finite number > 0"),
    ({"val_fraction": 1.0}, "val_fraction must be between 0 and 1"),
    ({"modality": "audio", "sample_rate": 10}, "audio needs sample_rate >= 1000 Hz"),
])
def test_teacher_config_rejects_bad_values(values, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        TeacherConfig(**values)


def test_config_files_fail_in_one_line(tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "bad.json").write_text("{oops")
    (tmp_path / "unknown.json").write_text('{"temprature": 8}')
    for path, fragment in ((tmp_path / "list.json", "must be a JSON object"), (tmp_path, "is a folder"),
                           (tmp_path / "bad.json", "not valid JSON"), (tmp_path / "none.json", "does not exist"),
                           (tmp_path / "unknown.json", "unknown distill config keys ['temprature']")):
        with pytest.raises(ValueError, match=fragment.replace("[", r"\[")):
            DistillConfig.from_file(path)
    (tmp_path / "run.json").write_text(json.dumps({"config": {"modality": "audio", "temperature": 8.0}}))
    assert DistillConfig.from_file(tmp_path / "run.json").temperature == 8.0


def test_make_optimizer_builds_each_kind():
    assert [type(make_optimizer(n, 1e-3, 1e-4, s, 10)).__name__ for n, s in
            (("adam", "constant"), ("adamw", "cosine"), ("sgd", "cosine"))] == ["Adam", "AdamW", "SGD"]


def test_the_console_script_keeps_explicit_flags_over_the_audio_recipe(tmp_path):
    """`aip` itself (not python -m): --help lists the flags, and given flags beat the modality recipe."""
    aip = shutil.which("aip")
    assert aip, "the aip console script is not installed: pip install -e ."
    helped = subprocess.run([aip, "distill", "--help"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert helped.returncode == 0 and "--temperature" in helped.stdout and "--modality" in helped.stdout
    assert "oneDNN" not in helped.stderr and "absl::InitializeLog" not in helped.stderr
    flags = ["--modality=audio", "--temperature=8", "--learning_rate=0.002", "--batch_size=128",
             "--teacher=zoo:fashion_mnist-teacher-small_cnn", "--print_config"]
    shown = subprocess.run([aip, "distill", *flags], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)
    assert (config["temperature"], config["learning_rate"], config["batch_size"], config["teacher"]) == (
        8.0, 0.002, 128, "zoo:fashion_mnist-teacher-small_cnn")
    assert (config["student"], config["eval"], config["augment"]) == ("audio_cnn", "fsdd", "audio")
    assert not list(tmp_path.iterdir())  # --print_config writes nothing


def test_bare_audio_modality_uses_the_audio_recipe_and_the_zoo_teacher():
    config = DistillConfig(modality="audio")
    assert (config.teacher, config.student, config.eval, config.augment) == (
        "zoo:fsdd-teacher-audio_cnn", "audio_cnn", "fsdd", "audio")
    assert (config.temperature, config.learning_rate, config.batch_size) == (4.0, 4e-3, 32)
    chosen = DistillConfig(modality="audio", temperature=2.0, batch_size=64)
    assert (chosen.temperature, chosen.batch_size, chosen.learning_rate) == (2.0, 64, 4e-3)
    teacher, fmt = load_audio_model(config.teacher)  # the zoo entry, through aip_keras.zoo
    assert fmt == {"sample_rate": 16000, "samples": 16000} and teacher.output_shape == (None, 10)
