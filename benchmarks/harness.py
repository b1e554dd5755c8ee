"""The reproduction harness of issue 3: suites of distillation runs at a fixed CPU budget.

One *run* is a `DistillConfig` run by `jobs.run_distillation` under a budget,
written as one JSON file in the results format of `shared/design.md` to
`benchmarks/results/<run id>.json` (the run's folder, with `student.keras`,
`history.csv` and TensorBoard logs, goes to `benchmarks/runs/<run id>/`, not
committed). `reproduce.py` is the command line; `report.py` turns the JSON
files into `docs/results.md` and `docs/figures/`.

Budget. Every run of a suite gets the same budget in *machine-minutes*: by
default (`clock="cpu"`) the process CPU time divided by the number of cores,
which equals wall minutes on an otherwise idle 2-core machine but does not
shrink when other jobs share the cores (the calibration box is shared). A
wall-clock cap of `wall_cap_factor` x the budget (`time_budget_minutes`) stops
runs on a machine that is too busy; `clock="wall"` uses wall minutes instead.

Schedule. The cosine schedule should reach zero when the budget runs out, so
each run is planned from a measured training rate: a short probe (the same
config through `run_distillation`, `probe_seconds` of the same clock after
its first three steps, which carry the tracing) gives samples per budget-second; the run then gets
`planned = fill * rate * budget` samples (`fill=0.9` leaves room for the
per-epoch validation and the first step's tracing), split into
`curve_points` (10) epochs of `patches_per_epoch = planned / 10` (rounded to
whole batches, at most 50,000 = one CIFAR epoch). Rates are cached per speed
class (model pair, source kind, bank, precision, augmentation, batch) in
`benchmarks/runs/rates.json`. A run that finishes its epochs early is simply
under budget; its JSON says what stopped it (`stopped_by`: `schedule`,
`budget` or `wall_cap`).
"""

import copy
import dataclasses
import hashlib
import json
import os
import pathlib
import platform
import shutil
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import keras  # noqa: E402

from aip_keras import atomic, jobs  # noqa: E402
from aip_keras.config import REAL_TRAIN, DistillConfig  # noqa: E402

RESULTS_DIR = REPO / "benchmarks" / "results"
RUNS_DIR = REPO / "benchmarks" / "runs"
PHOTOS = ("hubble_deep_field", "astronaut", "china", "coffee")
SOURCES = (REAL_TRAIN, *PHOTOS, "noise")
CIFAR_EPOCH = 50_000
SUITES = ("table1_cifar10", "table1_fashion_mnist", "ablations")

# CPU-sized teacher -> student pairs: the 0.29M-parameter small_cnn (widths
# 32-64-128, ~77 MFLOPs per 32x32 image, the design notes' calibration
# network) teaches a randomly initialised small_cnn on both tasks (the package
# default student). The default-choice screen (docs/logs/default-choice/) found
# it well ahead of tiny_cnn (~18k parameters) at equal wall time on
# Fashion-MNIST although it saw half the patches. Fashion-MNIST: the zoo
# teacher (92.37%), 28 px grey patches; CIFAR-10: `aip train-teacher
# --data=cifar10 --arch=small_cnn --epochs=8` (79.94%).
TASKS = {
    "cifar10": {
        "teacher": "zoo/cifar10-teacher-small_cnn",
        "eval": "cifar10",
        "student": "small_cnn",
        "student_kwargs": {},
        "student_arch": "small_cnn",
    },
    "fashion_mnist": {
        "teacher": "zoo/fashion_mnist-teacher-small_cnn",
        "eval": "fashion_mnist",
        "student": "small_cnn",
        "student_kwargs": {},
        "student_arch": "small_cnn",
    },
}

# "Plain random crops": the first square crop (0.5 x short side) resized to S,
# no random-resized-crop scale/aspect, no rotation/shear, no colour jitter.
PLAIN_CROPS = {
    "min_area": 1.0, "max_area": 1.0, "min_aspect": 1.0, "max_aspect": 1.0,
    "expand": 1.0, "rotation": 0.0, "shear": 0.0, "jitter_p": 0.0,
}
# Ablation variants: DistillConfig overrides of the baseline (2020 chain,
# "cifar" policy with CutMix, tau 8, no tau^2, streaming patches, AdamW 2e-3
# wd 5e-4 + cosine, float32). "baseline" is the Table 1 run of the same
# source and seed, so it is shared, not rerun.
ABLATIONS = {
    "baseline": {},
    "plain_crops": {"chain": PLAIN_CROPS},
    "no_cutmix": {"augment_overrides": {"cutmix_alpha": 0.0}},
    "tau1": {"temperature": 1.0},
    "tau4": {"temperature": 4.0},
    "tau_squared": {"tau_squared": True},
    "patch_bank": {"patch_bank": CIFAR_EPOCH},
    "adam_constant": {"optimizer": "adam", "learning_rate": 1e-3, "schedule": "constant",
                      "include_student_losses": False},
    "bf16": {"mixed_precision": True},
}
ABLATION_LABELS = {
    "baseline": "baseline: 2020 chain + CutMix, tau 8, AdamW + cosine",
    "plain_crops": "plain random crops (no RRC scale, rotation, shear, jitter)",
    "no_cutmix": "no CutMix",
    "tau1": "tau = 1",
    "tau4": "tau = 4",
    "tau_squared": "tau^2 scaling on (tau 8)",
    "patch_bank": "patch bank of 50,000 (the paper's code) instead of streaming",
    "adam_constant": "paper recipe: Adam 1e-3 constant, no L2",
    "bf16": "mixed_bfloat16",
}


# --------------------------------------------------------------------------- the machine


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine():
    """One line: cores, architecture, CPU model, accelerator."""
    env = jobs.environment()
    return f"{env['machine']} ({cpu_model()}), shared with other jobs"


def cores():
    return os.cpu_count() or 1


class Clock:
    """Elapsed budget seconds: process CPU seconds / cores (`"cpu"`) or wall seconds (`"wall"`)."""

    def __init__(self, kind="cpu"):
        if kind not in ("cpu", "wall"):
            raise ValueError(f"clock must be 'cpu' or 'wall', got {kind!r}.")
        self.kind = kind
        self.start()

    def start(self):
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def wall(self):
        return time.monotonic() - self._wall

    def cpu(self):
        return time.process_time() - self._cpu

    def elapsed(self):
        return self.cpu() / cores() if self.kind == "cpu" else self.wall()


class BudgetAndCurve(keras.callbacks.Callback):
    """Stops training after `seconds` of `clock` and records one curve point per epoch.

    The clock starts at `on_train_begin` (as `callbacks.TimeBudget`), so the
    first step's tracing and per-epoch validation count against the budget.
    Each curve point: epoch, samples seen, budget minutes, wall and CPU
    seconds, and the epoch's logs (`val_accuracy`, `val_agreement`, `loss`).
    """

    def __init__(self, seconds, clock="cpu", batch_size=128, after_steps=0):
        super().__init__()
        self.seconds = float(seconds) if seconds else 0.0
        self.after_steps = int(after_steps)  # probes: count the budget from this step on
        self.clock = Clock(clock)
        self.batch_size = int(batch_size)
        self.exhausted = False
        self.curve = []
        self.step_times = []

    def on_train_begin(self, logs=None):
        self.clock.start()

    def on_train_batch_end(self, batch, logs=None):
        elapsed = self.clock.elapsed()
        self.step_times.append(elapsed)
        if self.after_steps:
            if len(self.step_times) <= self.after_steps:
                return
            elapsed -= self.step_times[self.after_steps - 1]
        if self.seconds and elapsed >= self.seconds:
            self.exhausted = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        point = {
            "epoch": epoch + 1,
            "samples": int(self.model.optimizer.iterations.numpy()) * self.batch_size,
            "minutes": self.clock.elapsed() / 60,
            "wall_seconds": self.clock.wall(),
            "cpu_seconds": self.clock.cpu(),
        }
        for key, value in (logs or {}).items():
            try:
                point[key] = float(value)
            except (TypeError, ValueError):
                pass
        self.curve.append(point)

    def rate(self, skip=3):
        """Samples per budget-second over the steps after the first `skip` (tracing)."""
        times = self.step_times[skip:]
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) * self.batch_size / (times[-1] - times[0])


# --------------------------------------------------------------------------- run specs


@dataclasses.dataclass
class RunSpec:
    """One cell of a table: task, variant (ablation name), source and seed."""

    task: str
    variant: str
    source: str
    seed: int
    suite: str = ""
    overrides: dict = dataclasses.field(default_factory=dict)
    eval_limit: int = 0
    val_limit: int = 2000
    batch_size: int = 128
    teacher: str = ""  # default: TASKS[task]["teacher"]

    def run_id(self, budget_minutes):
        return f"{self.task}-{budget_minutes:g}min-{self.variant}-{self.source}-seed{self.seed}"

    def teacher_path(self):
        teacher = self.teacher or TASKS[self.task]["teacher"]
        return str(REPO / teacher) if teacher.startswith("zoo/") else teacher

    def config(self, **fields):
        task = TASKS[self.task]
        values = {
            "teacher": self.teacher_path(),
            "student": task["student"],
            "student_kwargs": copy.deepcopy(task["student_kwargs"]),
            "source": self.source,
            "eval": task["eval"],
            "eval_limit": self.eval_limit,
            "val_limit": self.val_limit,
            "batch_size": self.batch_size,
            "seed": self.seed,
            **copy.deepcopy(self.overrides),
            **fields,
        }
        return DistillConfig.from_dict(values)

    def speed_key(self, clock):
        """What the training rate depends on (not the photo, seed or tau)."""
        config = self.config()
        key = {
            "task": self.task, "teacher": config.teacher, "student": config.student,
            "student_kwargs": config.student_kwargs, "real": config.source == REAL_TRAIN,
            "bank": bool(config.patch_bank), "bf16": config.mixed_precision, "augment": config.augment,
            "augment_overrides": config.augment_overrides, "chain": config.chain,
            "batch": config.batch_size, "clock": clock,
        }
        return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def suite_specs(suite, seeds=(0, 1), ablation_source="astronaut", ablation_seeds=(0,)):
    """The runs of a suite, in order (an "all" suite dedupes shared baselines)."""
    if suite == "all":
        specs, seen = [], set()
        for name in SUITES:
            for spec in suite_specs(name, seeds, ablation_source, ablation_seeds):
                key = (spec.task, spec.variant, spec.source, spec.seed)
                if key not in seen:
                    seen.add(key)
                    specs.append(spec)
        return specs
    if suite.startswith("table1_"):
        task = suite[len("table1_"):]
        if task not in TASKS:
            raise ValueError(f"unknown suite {suite!r}: use one of {list(SUITES)} or 'all'.")
        return [RunSpec(task, "baseline", source, int(seed), suite=suite)
                for source in SOURCES for seed in seeds]
    if suite == "ablations":
        return [RunSpec("cifar10", variant, ablation_source, int(seed), suite=suite, overrides=overrides)
                for variant, overrides in ABLATIONS.items() for seed in ablation_seeds]
    raise ValueError(f"unknown suite {suite!r}: use one of {list(SUITES)} or 'all'.")


# --------------------------------------------------------------------------- planning


def plan(rate, budget_minutes, batch_size, fill=0.9, curve_points=10, max_epoch=CIFAR_EPOCH):
    """Epochs and patches per epoch so that the cosine schedule ends near the budget.

    Example:

    >>> plan(400.0, 10, 128)
    {'rate': 400.0, 'planned_samples': 216320, 'patches_per_epoch': 21632, 'epochs': 10}
    """
    planned = max(batch_size, fill * rate * budget_minutes * 60)
    per_epoch = min(max_epoch, planned / curve_points)
    per_epoch = max(batch_size, int(round(per_epoch / batch_size)) * batch_size)
    epochs = max(1, int(round(planned / per_epoch)))
    return {"rate": float(rate), "planned_samples": epochs * per_epoch,
            "patches_per_epoch": per_epoch, "epochs": epochs}


def _rates_file(runs_dir):
    return pathlib.Path(runs_dir) / "rates.json"


def measure_rate(spec, clock="cpu", seconds=20.0, runs_dir=RUNS_DIR, verbose=0):
    """Training samples per budget-second of `spec`'s config, from a short probe run (cached)."""
    cache = _rates_file(runs_dir)
    rates = json.loads(cache.read_text()) if cache.exists() else {}
    key = spec.speed_key(clock)
    if key in rates:
        return rates[key]["rate"]
    probe_dir = pathlib.Path(runs_dir) / "_probe"
    shutil.rmtree(probe_dir, ignore_errors=True)
    fields = {"epochs": 1, "patches_per_epoch": 10**7, "eval_limit": 256, "val_limit": 256,
              "time_budget_minutes": (3 * seconds + 120) / 60}
    if spec.overrides.get("patch_bank"):
        fields["patch_bank"] = 1024  # sampling from a bank does not depend on its size
    config = spec.config(**fields)
    probe = BudgetAndCurve(seconds, clock, config.batch_size, after_steps=3)
    _fresh_keras()
    try:
        jobs.run_distillation(config, probe_dir, verbose=verbose, callbacks=[probe])
    finally:
        _fresh_keras()
        shutil.rmtree(probe_dir, ignore_errors=True)
    rate = probe.rate()
    if rate is None:
        raise ValueError(f"probe of {spec.run_id(0)} made too few steps in {seconds} s: raise probe_seconds.")
    rates[key] = {"rate": rate, "run": spec.run_id(0), "measured": time.strftime("%Y-%m-%d %H:%M"),
                  "load_average": list(os.getloadavg())}
    atomic.write_json(cache, rates)
    return rate


def _fresh_keras():
    keras.mixed_precision.set_global_policy("float32")  # run_distillation sets bf16 globally
    keras.backend.clear_session()


# --------------------------------------------------------------------------- running


def result_path(spec, budget_minutes, results_dir=RESULTS_DIR):
    return pathlib.Path(results_dir) / f"{spec.run_id(budget_minutes)}.json"


def command_for(spec, budget_minutes, clock, ablation_source=None):
    """The command line that reruns exactly this run."""
    parts = ["python benchmarks/reproduce.py", f"--suite={spec.suite or 'all'}",
             f"--budget_minutes={budget_minutes:g}", f"--clock={clock}"]
    if spec.suite == "ablations":
        parts += [f"--ablation_source={ablation_source or spec.source}", f"--ablation_seeds={spec.seed}"]
    else:
        parts.append(f"--seeds={spec.seed}")
    parts.append(f"--only={spec.run_id(budget_minutes)}")
    return " ".join(parts)


def run(spec, budget_minutes, clock="cpu", results_dir=RESULTS_DIR, runs_dir=RUNS_DIR, rate=None,
        probe_seconds=20.0, wall_cap_factor=3.0, fill=0.9, curve_points=10, verbose=2, command=None):
    """Runs one spec under the budget and writes its results JSON.

    Skips (returns the stored row) when the JSON already exists. An
    interrupted run's folder is deleted and the run starts over, so every
    stored run had exactly one budget.

    Returns:
        `(row, ran)`: the JSON contents and whether it ran now.
    """
    path = result_path(spec, budget_minutes, results_dir)
    if path.exists():
        return json.loads(path.read_text()), False
    if rate is None:
        rate = measure_rate(spec, clock, probe_seconds, runs_dir)
    schedule = plan(rate, budget_minutes, spec.batch_size, fill, curve_points)
    cap = budget_minutes * (wall_cap_factor if clock == "cpu" else 1.0)
    config = spec.config(epochs=schedule["epochs"], patches_per_epoch=schedule["patches_per_epoch"],
                         time_budget_minutes=cap)
    run_dir = pathlib.Path(runs_dir) / spec.run_id(budget_minutes)
    shutil.rmtree(run_dir, ignore_errors=True)
    budget = BudgetAndCurve(budget_minutes * 60 if clock == "cpu" else 0, clock, config.batch_size)
    load_before = os.getloadavg()
    _fresh_keras()
    try:
        result = jobs.run_distillation(config, run_dir, verbose=verbose, callbacks=[budget])
    finally:
        _fresh_keras()
    if budget.exhausted or (clock == "wall" and result["stopped_by_time_budget"]):
        stopped_by = "budget"
    elif result["stopped_by_time_budget"]:
        stopped_by = "wall_cap"
    else:
        stopped_by = "schedule"
    task = TASKS[spec.task]
    env = result["environment"]
    teacher = spec.teacher or task["teacher"]
    row = {
        "task": spec.task,
        "modality": "image",
        "kind": "distill",
        "suite": spec.suite,
        "variant": spec.variant,
        "run_id": spec.run_id(budget_minutes),
        "teacher": teacher,
        "student_arch": task["student_arch"],
        "source": spec.source,
        "seed": spec.seed,
        "budget_cpu_minutes": budget_minutes,
        "budget_clock": clock,
        "samples_seen": result["samples_seen"],
        "wall_seconds": result["wall_seconds"],
        "train_seconds": result["train_seconds"],
        "train_cpu_seconds": budget.clock.cpu(),
        "train_budget_minutes": budget.clock.elapsed() / 60,
        "stopped_by": stopped_by,
        "teacher_accuracy": result["teacher_accuracy"],
        "student_accuracy": result["student_accuracy"],
        "agreement": result["agreement"],
        "num_test_examples": result["metrics"].get("num_examples"),
        "machine": machine(),
        "cores": cores(),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "command": command or command_for(spec, budget_minutes, clock),
        "git_commit": env.get("git_commit", ""),
        "plan": {**schedule, "fill": fill, "curve_points": curve_points, "wall_cap_minutes": cap},
        "curve": budget.curve,
        "config": _relative_paths(result["config"]),
        "environment": env,
    }
    atomic.write_json(path, row)
    return row, True


def _relative_paths(config):
    config = dict(config)
    teacher = pathlib.Path(config["teacher"])
    if teacher.is_absolute() and REPO in teacher.parents:
        config["teacher"] = str(teacher.relative_to(REPO))
    return config


# --------------------------------------------------------------------------- teacher rows


def teacher_row(task, results_dir=RESULTS_DIR, teacher=None, write=True):
    """The teacher's row from its `run.json` (None if not trained yet); `write`: as `<task>-teacher-<arch>.json`."""
    teacher = teacher or TASKS[task]["teacher"]
    folder = REPO / teacher if not pathlib.Path(teacher).is_absolute() else pathlib.Path(teacher)
    run_json = folder / "run.json"
    if not run_json.exists():
        return None
    run = json.loads(run_json.read_text())
    config = run.get("config", {})
    arch = config.get("arch", "model")
    flags = " ".join(f"--{k}={v}" for k, v in (("data", config.get("data")), ("arch", arch),
                                                ("epochs", config.get("epochs"))) if v is not None)
    env = run.get("environment", {})
    row = {
        "task": task,
        "modality": "image",
        "kind": "teacher",
        "teacher": teacher,
        "arch": arch,
        "teacher_accuracy": run["test_accuracy"],
        "test_accuracy": run["test_accuracy"],
        "test_top5": run.get("test_top5"),
        "num_test_examples": run.get("num_test_examples"),
        "wall_seconds": run.get("wall_seconds"),
        "machine": env.get("machine", machine()),
        "command": f"aip train-teacher {flags} --output={teacher}",
        "git_commit": env.get("git_commit", ""),
        "config": config,
    }
    path = pathlib.Path(results_dir) / f"{task}-teacher-{arch}.json"
    if write and (not path.exists() or json.loads(path.read_text()) != json.loads(json.dumps(row))):
        atomic.write_json(path, row)
    return row
