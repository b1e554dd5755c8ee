"""
Title: Searching the augmentation policy, then distilling with the best
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: A KerasTuner search over single-image augmentation policies on a short proxy budget, scored on held-out training images, then a longer run with the winner.
Accelerator: None (about 3 minutes on a 2-core CPU; `--full` for an 8-trial search and a 15-minute run)
"""

"""
## Introduction

Which augmentations make one image teach best depends on the teacher and on the image.
`aip_keras.tuning.search` runs a KerasTuner search (random, Bayesian or Hyperband) whose trials
each distil a fresh student on a short **proxy** budget and are scored on a validation split
carved from the evaluation set's **training** split: the test split is never used to choose.
The space covers the crop chain (initial crop, minimum area, rotation, shear, colour jitter),
CutMix / MixUp, the temperature and the learning rate.

The search writes `best_config.json`: the base `DistillConfig` with the best policy and the
*full* budget, ready for `jobs.run_distillation` (or `aip distill --config=best_config.json`).

The teacher is the zoo's CIFAR-10 `small_cnn` (79.9% test accuracy). CIFAR-10 is read from the
JPEG tar `cifar10-jpeg.tar.gz` in `$AIP_SHARED_DATA` (or `../shared/data` next to a checkout).

```
python examples/tune_then_distill.py            # 2 trials + a short run, about 3 minutes
python examples/tune_then_distill.py --full     # 8 trials of 2 x 4096 patches, then 6 x 20000 patches
```
"""

"""
## Setup
"""

# Notebook style: text cells and environment variables come before the imports.
# ruff: noqa: E402
import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from aip_keras import datasets, jobs, teachers, tuning
from aip_keras.config import DistillConfig

parser = argparse.ArgumentParser(description="Search the augmentation policy, then distil with the best.")
parser.add_argument("--output_dir", default=None, help="default: runs/examples/tune_then_distill-<time>")
parser.add_argument("--teacher", default="zoo:cifar10-teacher-small_cnn",
                    help="a CIFAR-10 teacher (anything teachers.load_teacher accepts)")
parser.add_argument("--source", default="china", help="the one image: a photo name or an image path")
parser.add_argument("--max_trials", type=int, default=2)
parser.add_argument("--trial_patches_per_epoch", type=int, default=1280, help="proxy budget: patches per trial")
parser.add_argument("--epochs", type=int, default=1, help="the final run's epochs")
parser.add_argument("--patches_per_epoch", type=int, default=6400, help="the final run's patches per epoch")
parser.add_argument("--eval_limit", type=int, default=2000, help="test images for the final score (0: all)")
parser.add_argument("--full", action="store_true",
                    help="8 trials of 2 x 4096 patches, then 6 x 20000 patches on all test images")
args = parser.parse_args()
if args.full:
    args.max_trials, args.trial_patches_per_epoch, args.epochs, args.patches_per_epoch, args.eval_limit = \
        8, 4096, 6, 20000, 0
output_dir = pathlib.Path(args.output_dir or f"runs/examples/tune_then_distill-{time.strftime('%Y%m%d-%H%M%S')}")

"""
## Check the data and the teacher

Both the search (its validation split) and the final score need CIFAR-10; the CIFAR-10 teacher
comes from the zoo of a source checkout, the Hugging Face cache, or the Hub. Fail early, in one
line, when either is missing.
"""

try:
    datasets.load("cifar10", split="train")
except ValueError as error:
    raise SystemExit(f"error: this example needs CIFAR-10: {str(error).splitlines()[0]}") from None
try:
    teachers.load_teacher(args.teacher)
except ValueError as error:
    raise SystemExit(
        f"error: cannot load the teacher {args.teacher} ({str(error).splitlines()[0]}). From a source checkout "
        "it is in zoo/; elsewhere train one (aip train-teacher --data=cifar10 --output=teacher.keras) "
        "and pass --teacher=teacher.keras."
    ) from None

"""
## The base config

Everything the search does not tune comes from here: teacher, student, evaluation set, batch
size, seed. Its `epochs` / `patches_per_epoch` are the budget of the *final* run.
"""

base = DistillConfig(teacher=args.teacher, eval="cifar10", student="small_cnn", source=args.source,
                     epochs=args.epochs, patches_per_epoch=args.patches_per_epoch, eval_limit=args.eval_limit,
                     val_limit=1000)

"""
## The search

Each trial distils for `trial_epochs` x `trial_patches_per_epoch` patches and is scored on 1,000
images held out of CIFAR-10's training split. `tune=` picks part of the space (default: all of
`tuning.SEARCH_SPACE`); `sources=["china", "astronaut"]` would search over photos too.
"""

tune_dir = output_dir / "tune"
result = tuning.search(
    base, tune_dir, algorithm="random", max_trials=args.max_trials,
    tune=["min_area", "jitter", "cutmix_alpha", "temperature"],
    trial_epochs=2 if args.full else 1, trial_patches_per_epoch=args.trial_patches_per_epoch,
    val_limit=1000, verbose=0,
)
for trial in result["trials"]:
    print(f"trial {trial['trial_id']}: {trial['status']:9s} val_accuracy {trial.get('val_accuracy') or 0:.4f}")
print(f"best trial {result['best_trial']}: val_accuracy {result['best_score']:.4f} with "
      f"{json.dumps(result['best_hyperparameters'])}")
print(f"search wrote {', '.join(sorted(p.name for p in tune_dir.iterdir() if p.is_file()))}")

"""
## Distil with the best policy

`best_config.json` is a plain `DistillConfig`: read it back and run it. The proxy budget of the
trials is replaced by the base config's full budget.
"""

best = DistillConfig.from_file(tune_dir / "best_config.json")
run = jobs.run_distillation(best, output_dir / "distill", verbose=2)
print(f"teacher accuracy: {run['teacher_accuracy']:.4f}   student accuracy: {run['student_accuracy']:.4f}   "
      f"agreement: {run['agreement']:.4f}   ({run['metrics']['num_examples']} test images, cifar10, "
      f"source {best.source!r})")
print(f"student: {output_dir / 'distill' / 'student.keras'}")

"""
## Reading the search

`trials.csv` has one row per trial, `effects.png` plots each hyperparameter against the
objective, and `tune.json` records the whole search. Two trials at a proxy budget of a few
seconds are a demonstration, not evidence: trial scores at tiny budgets are noisy, and
`docs/results.md` reports what a real search bought on CIFAR-10.
"""
