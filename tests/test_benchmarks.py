"""The reproduction harness (benchmarks/) on a budget of seconds, and the report from synthetic rows."""

import json
import math
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aip_keras import jobs  # noqa: E402
from aip_keras.config import REAL_TRAIN, DistillConfig, TeacherConfig  # noqa: E402
from benchmarks import harness, report, teacher_view  # noqa: E402

# The fields every run carries (shared/design.md, "Results format").
DESIGN_FIELDS = {"task", "modality", "kind", "teacher", "student_arch", "source", "seed", "budget_cpu_minutes",
                 "samples_seen", "wall_seconds", "teacher_accuracy", "student_accuracy", "agreement", "machine",
                 "command", "git_commit"}


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher") / "fashion-tiny"
    # 3 epochs on 3,000 images: ~0.69 test accuracy, so its accuracy on a 500-image subset stays clear of 0.5 (2
    # epochs on 2,000 gave 0.57 here and 0.486 on CI's subset).
    config = TeacherConfig(arch="tiny_cnn", epochs=3, train_limit=3000, learning_rate=0.005)
    assert jobs.train_teacher(config, out, verbose=0)["test_accuracy"] > 0.6
    return out


def _spec(teacher, source="astronaut", **kwargs):
    return harness.RunSpec("fashion_mnist", "baseline", source, 0, suite="test", teacher=str(teacher),
                           eval_limit=500, val_limit=256, batch_size=64, **kwargs)


def test_run_on_a_tiny_budget_writes_one_json_and_resumes(tiny_teacher, tmp_path):
    # The upper-bound source (real training images, through the same policy) with a policy override:
    # the two additions to jobs.run_distillation, planned by a probe like every run.
    spec = _spec(tiny_teacher, source=REAL_TRAIN, overrides={"augment_overrides": {"cutmix_alpha": 0.0}})
    results, runs = tmp_path / "results", tmp_path / "runs"
    row, ran = harness.run(spec, 0.03, clock="cpu", results_dir=results, runs_dir=runs, probe_seconds=1.0,
                           curve_points=3, verbose=0)
    assert ran
    path = results / "fashion_mnist-0.03min-baseline-real-train-seed0.json"
    assert path.is_file() and json.loads(path.read_text()) == row
    assert DESIGN_FIELDS <= set(row)
    assert (row["task"], row["modality"], row["kind"], row["source"]) == ("fashion_mnist", "image", "distill",
                                                                          "real-train")
    assert row["config"]["augment_overrides"] == {"cutmix_alpha": 0.0}
    assert row["budget_cpu_minutes"] == 0.03 and row["budget_clock"] == "cpu"
    assert 0 <= row["student_accuracy"] <= 1 and row["teacher_accuracy"] > 0.5
    assert row["samples_seen"] > 0 and row["stopped_by"] in ("budget", "schedule", "wall_cap")
    assert row["train_budget_minutes"] < 0.03 * 4
    assert row["curve"] and {"epoch", "samples", "minutes", "val_accuracy"} <= set(row["curve"][-1])
    assert row["plan"]["epochs"] * row["plan"]["patches_per_epoch"] == row["plan"]["planned_samples"]
    assert "--only=fashion_mnist-0.03min-baseline-real-train-seed0" in row["command"]
    assert (runs / "rates.json").is_file() and (runs / row["run_id"] / "student.keras").is_file()
    again, ran = harness.run(spec, 0.03, results_dir=results, runs_dir=runs)  # exists: skipped
    assert not ran and again == row


def test_teacher_view_counts_the_classes_the_teacher_names(tiny_teacher):
    row = teacher_view.view("fashion_mnist", samples=128, batch_size=64, teacher=str(tiny_teacher))
    assert row["kind"] == "teacher_view" and row["teacher"] == str(tiny_teacher)
    assert set(row["sources"]) == set(harness.SOURCES) and len(row["class_names"]) == 10
    for source, view in row["sources"].items():
        assert view["samples"] == 128 and len(view["classes"]) == 10
        assert sum(view["classes"]) == pytest.approx(1.0, abs=1e-3)
        entropy = -sum(p * math.log(p) for p in view["classes"] if p > 0)
        assert view["coverage"] == pytest.approx(entropy / math.log(10), abs=1e-3)
        assert 0.1 <= view["confidence"] <= 1.0
    # A trained teacher names nearly every class on its own training images.
    assert row["sources"]["real-train"]["coverage"] > 0.8


def test_config_checks():
    with pytest.raises(ValueError, match="unknown augment_overrides"):
        DistillConfig(augment_overrides={"cutmix": 0})
    with pytest.raises(ValueError, match="real-train"):
        DistillConfig(source=REAL_TRAIN, patch_bank=100)


def test_suites_and_plan():
    assert len(harness.suite_specs("table1_cifar10", seeds=(0, 1))) == 12
    assert len(harness.suite_specs("ablations")) == len(harness.ABLATIONS)
    assert len(harness.suite_specs("all", seeds=(0, 1))) == 12 + 12 + len(harness.ABLATIONS) - 1  # shared baseline
    for spec in harness.suite_specs("all"):
        spec.config()  # every config is valid
    p = harness.plan(400.0, 10, 128)
    assert p["epochs"] == 10 and p["patches_per_epoch"] % 128 == 0
    assert abs(p["planned_samples"] - 0.9 * 400 * 600) < 2 * 128 * 10
    with pytest.raises(ValueError, match="unknown suite"):
        harness.suite_specs("table2")


def _distill_row(task, source, seed, acc, variant="baseline", suite="table1_cifar10"):
    return {"task": task, "modality": "image", "kind": "distill", "suite": suite, "variant": variant,
            "teacher": f"zoo/{task}-teacher", "student_arch": "tiny_cnn", "source": source, "seed": seed,
            "budget_cpu_minutes": 1, "budget_clock": "cpu", "samples_seen": 1000, "wall_seconds": 70.0,
            "train_seconds": 60.0, "teacher_accuracy": 0.8, "student_accuracy": acc, "agreement": acc + 0.05,
            "machine": "2-core x86_64, no GPU", "command": "python benchmarks/reproduce.py", "git_commit": "abc",
            "stopped_by": "budget", "num_test_examples": 10000,
            "config": {"batch_size": 128, "temperature": 8.0, "optimizer": "adamw", "learning_rate": 0.002,
                       "schedule": "cosine", "augment": "cifar"},
            "curve": [{"epoch": e, "minutes": 0.3 * e, "samples": 300 * e, "val_accuracy": acc * e / 3}
                      for e in (1, 2, 3)]}


def _tune_row():
    trials = [{"trial_id": f"0{i}", "status": "COMPLETED", "val_accuracy": v, "val_agreement": v, "temperature": t}
              for i, (v, t) in enumerate(((0.44, 4.0), (0.3, 8.0), (0.4, 2.0), (0.2, 1.0)), 1)]
    trials.append({"trial_id": "05", "status": "FAILED", "val_accuracy": None, "val_agreement": None,
                   "temperature": 2.0})
    full = {f"tuned{rank}-s{seed}": {"trial_id": trial, "rank": rank, "seed": seed, "proxy_score": proxy}
            for rank, seed, trial, proxy in ((1, 0, "01", 0.44), (1, 1, "01", 0.44), (2, 0, "03", 0.4),
                                             (3, 0, "02", 0.35))}
    return {"task": "cifar10", "modality": "image", "kind": "tune", "teacher": "zoo/cifar10-teacher",
            "student_arch": "small_cnn", "source": "astronaut", "seed": 0, "algorithm": "random",
            "objective": "val", "proxy_budget": {"epochs": 2, "patches_per_epoch": 4096, "batch_size": 128},
            "num_trials": 5, "num_completed": 4, "trials": trials, "default_proxy_score": 0.3,
            "default_hyperparameters": {"temperature": 8.0}, "search_cpu_seconds": 600.0,
            "machine": "2-core", "command": "python benchmarks/tune.py", "full_budget": full}


def test_report_builds_markdown_and_figures(tmp_path):
    results = tmp_path / "results"
    rows = {
        "a0": _distill_row("cifar10", "real-train", 0, 0.6),
        "a1": _distill_row("cifar10", "real-train", 1, 0.62),
        "b0": _distill_row("cifar10", "astronaut", 0, 0.4),
        "b1": _distill_row("cifar10", "astronaut", 1, 0.45),
        "c0": _distill_row("cifar10", "astronaut", 0, 0.3, variant="no_cutmix", suite="ablations"),
        "t": {"task": "cifar10", "modality": "image", "kind": "teacher", "teacher": "zoo/cifar10-teacher",
              "arch": "small_cnn", "teacher_accuracy": 0.8, "test_accuracy": 0.8, "wall_seconds": 600,
              "command": "aip train-teacher --data=cifar10"},
        "th": {"task": "cifar10", "modality": "image", "kind": "throughput", "name": "train-ours-cached",
               "measure": "train", "samples_per_second": 500.0, "cpu_seconds_per_sample": 0.004,
               "compared_with": "train-keras-cached", "ratio": 1.1, "wall_ratio": 1.2, "input_bound_ratio": 0.8,
               "load_average": [2.0, 2.0, 2.0], "teacher": "t", "student_arch": "s"},
        "audio": {"task": "fsdd", "modality": "audio", "kind": "distill"},  # another report's row
        "tune": _tune_row(),
        "n0": _distill_row("cifar10", "noise", 0, 0.2),
        "h0": _distill_row("cifar10", "hubble_deep_field", 0, 0.1),
        "view": {"task": "cifar10", "modality": "image", "kind": "teacher_view", "teacher": "zoo/cifar10-teacher",
                 "class_names": ["cat", "dog"], "samples_per_source": 100, "policy": "cifar",
                 "command": "python benchmarks/teacher_view.py",
                 "sources": {s: {"classes": c, "coverage": v, "confidence": 0.9, "samples": 100} for s, c, v in (
                     ("real-train", [0.5, 0.5], 1.0), ("astronaut", [0.7, 0.3], 0.88),
                     ("hubble_deep_field", [0.995, 0.005], 0.05), ("noise", [0.9, 0.1], 0.47))}},
    }
    for rank, seed, acc in ((1, 0, 0.5), (1, 1, 0.52), (2, 0, 0.42), (3, 0, 0.41)):
        rows[f"tuned{rank}-{seed}"] = {**_distill_row("cifar10", "astronaut", seed, acc, variant=f"tuned{rank}",
                                                      suite="tune"), "run_id": f"tuned{rank}-s{seed}"}
    results.mkdir()
    for name, row in rows.items():
        (results / f"{name}.json").write_text(json.dumps(row))
    doc, figures = tmp_path / "docs" / "results.md", tmp_path / "docs" / "figures"
    written = report.build(results, doc, figures, grid_sources=("astronaut",), grid_patches=4)
    text = doc.read_text()
    assert "## Table 1: cifar10, 1 machine-minutes per run" in text
    assert "| real-train (upper bound) | 61.0 ± 1.4 | 60.0–62.0 | 2 |" in text
    assert "| no_cutmix |" in text and "| -10.0 |" in text  # vs the baseline of the same seed (40.0)
    assert "## Throughput" in text and "| train-ours-cached | 500 |" in text and "0.80x" in text
    assert "| cifar10 | `zoo/cifar10-teacher` | small_cnn | 80.0% |" in text
    assert "fsdd" not in text
    assert "## Augmentation search: cifar10 from `astronaut` (KerasTuner)" in text
    assert "| default (paper policy) | 30.0 | 40.0 | 45.0 | 42.5 |" in text
    assert "| tuned1 (trial 01) | 44.0 | 50.0 | 52.0 | 51.0 |" in text
    assert "over 4 policies: ρ = 1.00 (exact one-sided permutation p = 0.042" in text  # proxy 30 < 35 < 40 < 44 ranks as full 40 < 41 < 42 < 50
    assert "Tuned" not in text.split("## Augmentation search")[0]  # tuned runs stay out of Table 1
    assert "## What the teacher names: cifar10" in text
    assert "| astronaut | 0.88 | 0.90 | cat (70.0%) | 2 of 2 | 42.5 |" in text
    assert "| hubble_deep_field | 0.05 | 0.90 | cat (99.5%) | 1 of 2 | 10.0 |" in text
    assert "over the 3 single-datum sources: ρ = 1.00 (exact one-sided permutation p = 0.167" in text  # 1 of 3!
    for path in written:
        assert pathlib.Path(path).stat().st_size > 0
    assert {p.name for p in figures.iterdir()} == {
        "cifar10-1min-accuracy-vs-minutes.png", "ablations-cifar10-1min-astronaut-bars.png",
        "ablations-cifar10-1min-astronaut-curves.png", "patches-astronaut.png", "tune-cifar10-astronaut-trials.png",
        "tune-cifar10-astronaut-effects.png", "tune-cifar10-astronaut-proxy-vs-full.png",
        "teacher-view-cifar10.png"}
    doc.write_text(doc.read_text() + "my analysis\n")  # notes below the marker survive
    report.build(results, doc, figures, grid_sources=())
    assert doc.read_text().endswith(report.NOTES_MARKER + "\nmy analysis\n")
