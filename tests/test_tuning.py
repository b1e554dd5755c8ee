"""KerasTuner augmentation search: tiny searches through the API and the CLI, failures, validation split."""
import csv
import json
import subprocess
import sys
import types

import keras_tuner
import pytest

from aip_keras import datasets, tuning
from aip_keras.config import REAL_TRAIN, DistillConfig

TINY = dict(trial_epochs=1, trial_patches_per_epoch=128, val_limit=128)


def _config(**fields):
    return DistillConfig(teacher="zoo:cifar10-teacher-small_cnn", eval="cifar10", student="tiny_cnn",
                              batch_size=64, epochs=3, patches_per_epoch=1024, **fields)


def test_hp_space_defaults_are_the_paper_policy():
    hypermodel = tuning.AugmentationHyperModel(_config(), sources=["astronaut", "china"])
    hp = keras_tuner.HyperParameters()
    config = hypermodel.config_for(hp, full=True)
    assert set(hp.values) == set(tuning.SEARCH_SPACE)
    assert config.chain == {"initial_crop": 0.5, "min_area": 0.002, "rotation": 30.0, "shear": 30.0,
                            "brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1, "jitter_p": 0.5}
    assert config.augment_overrides == {"cutmix_alpha": 0.25, "cutmix_probability": 1.0, "mixup_alpha": 0.0}
    assert (config.temperature, config.learning_rate, config.epochs, config.patches_per_epoch) == (8.0, 2e-3, 3, 1024)
    proxy = hypermodel.config_for(hp)
    assert (proxy.epochs, proxy.patches_per_epoch) == (2, 4096)
    hp.values["mixup"], hp.values["temperature"] = True, 2.0
    assert hypermodel.config_for(hp).augment_overrides["mixup_alpha"] == tuning.MIXUP_ALPHA
    assert tuning.AugmentationHyperModel.from_config(hypermodel.get_config()).get_config() == hypermodel.get_config()
    for bad, fragment in (({"tune": ["nope"]}, "unknown hyperparameters"),
                          ({"trial_patches_per_epoch": 8}, "proxy budget"),
                          ({"config": _config(source=REAL_TRAIN)}, "no augmentation chain")):
        with pytest.raises(ValueError, match=fragment):
            tuning.AugmentationHyperModel(**{"config": _config(), **bad})


def test_search_writes_a_config_that_distill_accepts(tmp_path, monkeypatch):
    splits = []
    original = datasets.load
    monkeypatch.setattr(datasets, "load", lambda name, split="test", **kw: splits.append(split) or original(
        name, split, **kw))
    out = tmp_path / "search"
    result = tuning.search(_config(), out, max_trials=2, tune=["temperature", "cutmix_alpha", "rotation"],
                           overwrite=True, verbose=0, **TINY)
    assert "test" not in splits  # the objective is a split of the training images, never the test split
    assert result["num_trials"] == result["num_completed"] == 2
    assert 0.0 <= result["best_score"] <= 1.0 and result["kind"] == "tune"
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [r["status"] for r in rows] == ["COMPLETED"] * 2 and {"temperature", "rotation"} <= set(rows[0])
    assert max(float(r["val_accuracy"]) for r in rows) == pytest.approx(result["best_score"])
    for png in ("trials.png", "effects.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    best = DistillConfig.from_file(out / "best_config.json")
    assert best.temperature == result["best_hyperparameters"]["temperature"]
    assert best.chain["rotation"] == result["best_hyperparameters"]["rotation"]
    assert (best.epochs, best.patches_per_epoch) == (3, 1024)  # the full budget, not the proxy


def test_cli_tune_then_distill_with_its_config(tmp_path):
    def aip(*args):
        return subprocess.run([sys.executable, "-m", "aip_keras.cli", *args], capture_output=True, text=True,
                              timeout=600)

    common = ["--teacher=zoo:cifar10-teacher-small_cnn", "--eval=cifar10", "--student=tiny_cnn", "--batch_size=64"]
    tuned = aip("tune", *common, "--algorithm=bayesian", "--max_trials=2", "--tune=temperature,jitter",
                "--trial_epochs=1", "--trial_patches_per_epoch=128", "--val_limit=128", "--epochs=1",
                "--patches_per_epoch=128", f"--output_dir={tmp_path / 'tune'}")
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    assert "Trial 2 Complete" in tuned.stdout and "best policy: aip distill --config=" in tuned.stdout
    config = tmp_path / "tune" / "best_config.json"
    ran = aip("distill", f"--config={config}", "--eval_limit=128", "--val_limit=64",
              f"--output_dir={tmp_path / 'run'}")
    assert ran.returncode == 0, ran.stderr[-2000:]
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["config"]["temperature"] == json.loads(config.read_text())["temperature"]
    assert run["config"]["chain"]["brightness"] == json.loads(config.read_text())["chain"]["brightness"]


def test_hyperband_runs(tmp_path):
    result = tuning.search(_config(), tmp_path / "hb", algorithm="hyperband", tune=["temperature"],
                           overwrite=True, verbose=0, trial_epochs=2, trial_patches_per_epoch=128, val_limit=64)
    assert result["num_completed"] >= 2 and result["algorithm"] == "hyperband"


def test_all_trials_failed_raises_one_line(tmp_path):
    config = _config(source=str(tmp_path / "missing.png"))
    with pytest.raises(RuntimeError) as excinfo:
        tuning.search(config, tmp_path / "bad", max_trials=2, tune=["temperature"], overwrite=True, verbose=0,
                      **TINY)
    message = str(excinfo.value)
    assert "2 of 2 trials failed" in message and "missing.png" in message and "\n" not in message
    assert not (tmp_path / "bad" / "best_config.json").exists()


def _trial(status):
    return types.SimpleNamespace(status=status, message="Traceback ...\nValueError: boom")


def test_check_trials_refuses_mostly_failed_searches():
    tuner = types.SimpleNamespace(oracle=types.SimpleNamespace(trials={}))
    tuner.oracle.trials = {str(i): _trial(s) for i, s in enumerate(["FAILED", "FAILED", "COMPLETED"])}
    with pytest.raises(RuntimeError, match="2 of 3 trials failed .first failure: ValueError: boom"):
        tuning.check_trials(tuner)
    tuner.oracle.trials = {str(i): _trial(s) for i, s in enumerate(["FAILED", "COMPLETED", "COMPLETED"])}
    assert len(tuning.check_trials(tuner)) == 2
    tuner.oracle.trials = {}
    with pytest.raises(RuntimeError, match="no trial"):
        tuning.check_trials(tuner)
