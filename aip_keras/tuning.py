"""KerasTuner search over single-image augmentation policies (`aip tune`).

Which augmentations make one image teach best is the paper's central
ablation; `AugmentationHyperModel` lets KerasTuner search it for any teacher
and image. Each trial rebuilds the patch chain and the batch policy from `hp`,
distils a fresh student on a short proxy budget, and is scored on a
**validation** split carved from the eval set's *training* split (the test
split is never looked at). `search` runs RandomSearch, BayesianOptimization or
Hyperband, refuses a search whose trials (mostly) failed, and writes the best
policy as a full-budget config for `aip distill --config=...`, a table of all
trials and plots.

The search space (`SEARCH_SPACE`; tune a subset with `tune=`):

| name | what | values | paper default |
|---|---|---|---|
| `source` | the photo (only with several `sources`) | the given photos | - |
| `initial_crop` | first square crop, fraction of the short side | 0.25-1.0 | 0.5 |
| `min_area` | smallest random-resized-crop area | 0.002-0.2 (log) | 0.002 |
| `rotation`, `shear` | range in degrees, U(-r, r) | 0-45 | 30 |
| `jitter` | colour-jitter strength (hue: a quarter of it) | 0-0.8 | 0.4 |
| `jitter_p` | probability of colour jitter | 0-1 | 0.5 |
| `cutmix_alpha` | CutMix Beta(a, a); 0 turns it off | 0, 0.25, 1 | 0.25 |
| `cutmix_probability` | share of batches mixed | 0.25-1 | 1 |
| `mixup` | MixUp (alpha 0.2) after CutMix | on/off | off |
| `temperature` | distillation tau | 1, 2, 4, 8 | 8 |
| `learning_rate` | peak AdamW rate (cosine) | 5e-4 - 8e-3 (log) | 2e-3 |
"""

import csv
import dataclasses
import io
import math
import pathlib
import time

import keras
import keras_tuner

from aip_keras import atomic, datasets, jobs, models, teachers
from aip_keras.config import REAL_TRAIN, DistillConfig

OBJECTIVE = "val_accuracy"
ALGORITHMS = ("random", "bayesian", "hyperband")
SEARCH_SPACE = ("source", "initial_crop", "min_area", "rotation", "shear", "jitter", "jitter_p",
                "cutmix_alpha", "cutmix_probability", "mixup", "temperature", "learning_rate")
MIXUP_ALPHA = 0.2
# A search is refused when more than this share of its trials failed.
MAX_FAILED_FRACTION = 0.5


class AugmentationHyperModel(keras_tuner.HyperModel):
    """A `keras_tuner.HyperModel` over single-image distillation policies.

    `build(hp)` returns a compiled `Distiller` (the teacher is loaded once,
    the student is fresh); `fit(hp, model)` rebuilds the single-image source
    and batch policy from the same `hp`, distils on the proxy budget and
    returns the student's accuracy on the validation split.

    Args:
        config: the `DistillConfig` the search starts from (teacher, student,
            eval set, batch size, and the fixed values of untuned options).
            Its `epochs` / `patches_per_epoch` are the *full* budget written
            into `config_for(hp, full=True)`.
        sources: photos (names or paths) the `source` hyperparameter chooses
            among; default: `config.source` alone (then `source` is not tuned).
        tune: names from `SEARCH_SPACE` to search (default: all); the others
            keep `config`'s values.
        trial_epochs: proxy budget: epochs per trial.
        trial_patches_per_epoch: proxy budget: patches per trial epoch.
        val_fraction: share of the eval set's training split held out for
            validation (the objective).
        val_limit: validation examples scored per trial (0: all held out).

    Example:

    >>> from aip_keras import jobs, tuning
    >>> config = DistillConfig(teacher="zoo:cifar10-teacher-small_cnn", eval="cifar10",
    ...                             student="tiny_cnn")
    >>> hypermodel = tuning.AugmentationHyperModel(config, tune=["temperature", "cutmix_alpha"])
    >>> hp = keras_tuner.HyperParameters()
    >>> trial_config = hypermodel.config_for(hp)  # registers the space, at its defaults
    >>> trial_config.temperature, trial_config.augment_overrides["cutmix_alpha"]
    (8.0, 0.25)
    """

    def __init__(self, config=None, sources=None, tune=None, trial_epochs=2, trial_patches_per_epoch=4096,
                 val_fraction=0.1, val_limit=2000, name="aip_augmentation", tunable=True):
        super().__init__(name=name, tunable=tunable)
        if isinstance(config, dict):
            config = DistillConfig.from_dict(config)
        self.config = config or DistillConfig()
        if self.config.modality != "image":
            raise ValueError(f"augmentation search is for images, got modality {self.config.modality!r}: "
                             "use an image teacher and eval set.")
        if self.config.source == REAL_TRAIN:
            raise ValueError(f"source {REAL_TRAIN!r} has no augmentation chain to tune: pass a photo.")
        self.sources = list(sources or [self.config.source])
        self.tune = list(SEARCH_SPACE if tune is None else tune)
        unknown = sorted(set(self.tune) - set(SEARCH_SPACE))
        if unknown:
            raise ValueError(f"unknown hyperparameters {unknown}: choose from {list(SEARCH_SPACE)}.")
        if trial_epochs < 1 or trial_patches_per_epoch < self.config.batch_size:
            raise ValueError(f"the proxy budget needs trial_epochs >= 1 and trial_patches_per_epoch >= the batch "
                             f"size ({self.config.batch_size}), got {trial_epochs} and {trial_patches_per_epoch}.")
        self.trial_epochs = int(trial_epochs)
        self.trial_patches_per_epoch = int(trial_patches_per_epoch)
        self.val_fraction = float(val_fraction)
        self.val_limit = int(val_limit)
        self._teacher = None
        self._val_data = None

    def get_config(self):
        return {"config": self.config.to_dict(), "sources": self.sources, "tune": self.tune,
                "trial_epochs": self.trial_epochs, "trial_patches_per_epoch": self.trial_patches_per_epoch,
                "val_fraction": self.val_fraction, "val_limit": self.val_limit, "name": self.name,
                "tunable": self.tunable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ------------------------------------------------------------------ hp -> config

    def config_for(self, hp, full=False):
        """The `DistillConfig` of `hp`: the proxy budget, or with `full=True` the base config's budget."""
        base, tuned = self.config, set(self.tune)
        chain, overrides, fields = dict(base.chain), dict(base.augment_overrides), {}
        if "source" in tuned and len(self.sources) > 1:
            fields["source"] = hp.Choice("source", self.sources)
        if "initial_crop" in tuned:
            chain["initial_crop"] = hp.Float("initial_crop", 0.25, 1.0, step=0.25, default=0.5)
        if "min_area" in tuned:
            chain["min_area"] = hp.Float("min_area", 0.002, 0.2, sampling="log", default=0.002)
        for name in ("rotation", "shear"):
            if name in tuned:
                chain[name] = float(hp.Int(name, 0, 45, step=15, default=30))
        if "jitter" in tuned:
            strength = hp.Float("jitter", 0.0, 0.8, step=0.2, default=0.4)
            chain.update(brightness=strength, contrast=strength, saturation=strength, hue=strength / 4)
        if "jitter_p" in tuned:
            chain["jitter_p"] = hp.Float("jitter_p", 0.0, 1.0, step=0.25, default=0.5)
        if "cutmix_alpha" in tuned:
            overrides["cutmix_alpha"] = hp.Choice("cutmix_alpha", [0.0, 0.25, 1.0], default=0.25)
        if "cutmix_probability" in tuned:
            overrides["cutmix_probability"] = hp.Float("cutmix_probability", 0.25, 1.0, step=0.25, default=1.0)
        if "mixup" in tuned:
            overrides["mixup_alpha"] = MIXUP_ALPHA if hp.Boolean("mixup", default=False) else 0.0
        if "temperature" in tuned:
            fields["temperature"] = hp.Choice("temperature", [1.0, 2.0, 4.0, 8.0], default=8.0)
        if "learning_rate" in tuned:
            fields["learning_rate"] = hp.Float("learning_rate", 5e-4, 8e-3, sampling="log", default=2e-3)
        if not full:
            fields.update(epochs=self.trial_epochs, patches_per_epoch=self.trial_patches_per_epoch,
                          time_budget_minutes=0.0)
        return dataclasses.replace(base, chain=chain, augment_overrides=overrides, **fields)

    # ------------------------------------------------------------------ KerasTuner

    def build(self, hp):
        config = self.config_for(hp)
        teacher, spec, shape = self._teacher_and_shape()
        keras.utils.set_random_seed(config.seed)
        student = models.build(config.student, shape, int(teacher.output_shape[-1]), **config.student_kwargs)
        steps = self.trial_epochs * (self.trial_patches_per_epoch // config.batch_size)
        return jobs.compiled_distiller(config, teacher, student, spec, total_steps=steps)

    def fit(self, hp, model, *args, callbacks=None, verbose=0, epochs=None, initial_epoch=0, **kwargs):
        """Distils on the proxy budget; returns `{"val_accuracy": ...}` on the validation split.

        `epochs` / `initial_epoch` come from Hyperband (its rounds); other
        tuners use `trial_epochs`.
        """
        config = self.config_for(hp)
        shape = self._teacher_and_shape()[2]
        data = jobs.image_stream(config, shape[0], shape[-1])
        model.fit(data, epochs=epochs or self.trial_epochs, initial_epoch=initial_epoch,
                  steps_per_epoch=self.trial_patches_per_epoch // config.batch_size,
                  callbacks=callbacks, verbose=verbose)
        scores = model.evaluate(self.validation_data(), verbose=0, return_dict=True)
        return {OBJECTIVE: float(scores["accuracy"]), "val_agreement": float(scores["agreement"])}

    # ------------------------------------------------------------------ data

    def _teacher_and_shape(self):
        if self._teacher is None:
            config = self.config
            eval_set = datasets.load(config.eval, split="train")  # shape and classes; never the test split
            teacher, spec = teachers.load_teacher(config.teacher, arch=config.teacher_arch or None,
                                                  num_classes=eval_set.num_classes,
                                                  input_shape=eval_set.image_shape)
            if int(teacher.output_shape[-1]) != eval_set.num_classes:
                raise ValueError(f"teacher predicts {teacher.output_shape[-1]} classes but {config.eval} has "
                                 f"{eval_set.num_classes}: tune on the teacher's own dataset.")
            height, _, channels = spec.input_shape_for(eval_set.image_shape)
            size = config.patch_size or height
            self._teacher = (teacher, spec, (size, size, channels))
        return self._teacher

    def validation_data(self):
        """Labelled batches held out of the eval set's training split (disjoint from its test split)."""
        if self._val_data is None:
            train = datasets.load(self.config.eval, split="train")
            _, val = datasets.split_validation(train, self.val_fraction, seed=0)
            self._val_data = val.dataset(256, shuffle=True, seed=0, limit=self.val_limit or None).cache()
        return self._val_data


def make_tuner(hypermodel, algorithm="random", max_trials=8, directory="runs/tune", project_name="search",
               seed=0, overwrite=False):
    """A KerasTuner tuner maximising `val_accuracy` (Hyperband: `max_epochs` = the trial epochs)."""
    objective = keras_tuner.Objective(OBJECTIVE, direction="max")
    common = dict(objective=objective, seed=seed, directory=str(directory), project_name=project_name,
                  overwrite=overwrite)
    if algorithm == "random":
        return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if algorithm == "bayesian":
        return keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    if algorithm == "hyperband":
        return keras_tuner.Hyperband(hypermodel, max_epochs=max(2, hypermodel.trial_epochs), factor=3,
                                     hyperband_iterations=1, **common)
    raise ValueError(f"unknown algorithm {algorithm!r}: use one of {list(ALGORITHMS)}.")


def check_trials(tuner, max_failed_fraction=MAX_FAILED_FRACTION):
    """Raises if all trials, or more than `max_failed_fraction` of them, failed.

    KerasTuner marks a trial FAILED (keeping its traceback in `trial.message`)
    and goes on; with every trial failed its `search` still returns normally.

    Returns:
        The finished trials.
    """
    trials = list(tuner.oracle.trials.values())
    failed = [t for t in trials if t.status in ("FAILED", "INVALID")]
    if not trials:
        raise RuntimeError("the search ran no trial: raise max_trials.")
    if len(failed) == len(trials) or len(failed) > max_failed_fraction * len(trials):
        raise RuntimeError(f"{len(failed)} of {len(trials)} trials failed (first failure: "
                           f"{_last_line(failed[0].message)}): fix that error and rerun with --overwrite.")
    return [t for t in trials if t.status == "COMPLETED"]


def _last_line(message):
    lines = [line.strip() for line in str(message or "").splitlines() if line.strip()]
    return (lines[-1] if lines else "no message")[:300]


def search(config, output_dir, algorithm="random", max_trials=8, sources=None, tune=None, trial_epochs=2,
           trial_patches_per_epoch=4096, val_fraction=0.1, val_limit=2000, seed=0, overwrite=False,
           verbose=1):
    """Searches augmentation policies and writes the results into `output_dir`.

    Writes `best_config.json` (a `DistillConfig` with the best policy and the
    full budget of `config`: `aip distill --config=<it>`), `trials.csv`,
    `tune.json` (the search and every trial), `trials.png` (objective vs trial)
    and `effects.png` (each hyperparameter vs the objective). KerasTuner's own
    state lives in `output_dir/tuner` (rerun without `overwrite` to resume).

    Args:
        config: the base `DistillConfig` (see `AugmentationHyperModel`).
        output_dir: where the results go.
        algorithm: `"random"`, `"bayesian"` or `"hyperband"`.
        max_trials: trials for random and Bayesian search.
        sources, tune, trial_epochs, trial_patches_per_epoch, val_fraction,
            val_limit: see `AugmentationHyperModel`.
        seed: the tuner's seed (the trials use `config.seed`).
        overwrite: start over instead of resuming `output_dir/tuner`.
        verbose: KerasTuner's per-trial progress and Keras' own (1: progress bars, 2: a line per epoch).

    Returns:
        The `tune.json` contents.

    Raises:
        RuntimeError: when all or most trials failed (one line with the first error).
    """
    output_dir = pathlib.Path(output_dir)
    hypermodel = AugmentationHyperModel(config, sources=sources, tune=tune, trial_epochs=trial_epochs,
                                        trial_patches_per_epoch=trial_patches_per_epoch,
                                        val_fraction=val_fraction, val_limit=val_limit)
    tuner = make_tuner(hypermodel, algorithm, max_trials, output_dir / "tuner", seed=seed, overwrite=overwrite)
    start = time.time()
    try:
        tuner.search(verbose=verbose)
    except RuntimeError as error:  # KerasTuner's "consecutive failures exceeded the limit"
        check_trials(tuner, max_failed_fraction=0.0)
        raise RuntimeError(_last_line(error)) from None
    completed = check_trials(tuner)
    rows = trial_rows(tuner)
    best_hp = tuner.get_best_hyperparameters(1)[0]
    best_config = hypermodel.config_for(best_hp, full=True)
    best = max((r for r in rows if r["status"] == "COMPLETED"), key=lambda r: r[OBJECTIVE])
    result = {
        "kind": "tune",
        "algorithm": algorithm,
        "objective": f"student {OBJECTIVE} on {val_fraction:g} of {hypermodel.config.eval}'s training split "
                     f"({val_limit or 'all'} examples), never the test split",
        "proxy_budget": {"epochs": trial_epochs, "patches_per_epoch": trial_patches_per_epoch,
                         "batch_size": hypermodel.config.batch_size},
        "num_trials": len(rows),
        "num_completed": len(completed),
        "best_trial": best["trial_id"],
        "best_score": best[OBJECTIVE],
        "best_hyperparameters": best_hp.values,
        "best_config": best_config.to_dict(),
        "default_hyperparameters": _defaults(hypermodel),
        "trials": rows,
        "base_config": hypermodel.config.to_dict(),
        "search_seconds": time.time() - start,
        "environment": jobs.environment(),
    }
    atomic.write_json(output_dir / "best_config.json", best_config.to_dict())
    with atomic.atomic_path(output_dir / "trials.csv") as tmp:
        tmp.write_text(trials_csv(rows))
    plot_trials(rows, output_dir / "trials.png")
    plot_effects(rows, output_dir / "effects.png")
    atomic.write_json(output_dir / "tune.json", result)
    return result


def _defaults(hypermodel):
    hp = keras_tuner.HyperParameters()
    hypermodel.config_for(hp)
    return hp.values


def trial_rows(tuner):
    """One dict per trial, in trial order: id, status, objective, agreement, hyperparameter values."""
    rows = []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        metrics = trial.metrics.metrics
        rows.append({"trial_id": trial_id, "status": trial.status, OBJECTIVE: _best(metrics, OBJECTIVE),
                     "val_agreement": _best(metrics, "val_agreement"), **trial.hyperparameters.values})
    return rows


def _best(metrics, name):
    """A trial's best value of metric `name`, or None when it has none (a failed trial)."""
    best = metrics[name].get_best_value() if name in metrics else None
    return None if best is None else float(best)


def trials_csv(rows):
    names = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    _pyplot().close(fig)


def plot_trials(rows, path):
    """Objective per trial (failed trials marked) and the best so far."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    xs = list(range(1, len(rows) + 1))
    scores = [r[OBJECTIVE] for r in rows]
    done = [(x, s) for x, s in zip(xs, scores) if s is not None]
    if done:
        ax.plot(*zip(*done), "o", label="trial")
        best, running = -math.inf, []
        for x, s in done:
            best = max(best, s)
            running.append((x, best))
        ax.step(*zip(*running), where="post", label="best so far")
    failed = [x for x, r in zip(xs, rows) if r["status"] != "COMPLETED"]
    if failed:
        ax.plot(failed, [0] * len(failed), "x", color="red", label="failed")
    ax.set(xlabel="trial", ylabel=f"{OBJECTIVE} (validation split)", title="augmentation search")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_effects(rows, path):
    """One panel per hyperparameter: its value in each completed trial vs the objective."""
    plt = _pyplot()
    done = [r for r in rows if r[OBJECTIVE] is not None]
    names = [k for k in dict.fromkeys(k for r in rows for k in r)
             if k not in ("trial_id", "status", OBJECTIVE, "val_agreement")]
    columns = min(4, max(1, len(names)))
    lines = max(1, math.ceil(len(names) / columns))
    fig, axes = plt.subplots(lines, columns, figsize=(3 * columns, 2.4 * lines), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, name in zip(axes.ravel(), names):
        ax.axis("on")
        points = [(r.get(name), r[OBJECTIVE]) for r in done if r.get(name) is not None]
        if points and isinstance(points[0][0], str):
            labels = sorted({p[0] for p in points})
            points = [(labels.index(v), s) for v, s in points]
            ax.set_xticks(range(len(labels)), labels, fontsize=6, rotation=20)
        if points:
            ax.plot(*zip(*[(float(v), s) for v, s in points]), "o", markersize=4)
        if name in ("min_area", "learning_rate"):
            ax.set_xscale("log")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.supylabel(OBJECTIVE, fontsize=9)
    fig.tight_layout()
    _save(fig, path)

