"""
Title: Distilling a video classifier from one photo
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Fake camera moves over a single photo make the clips that teach a fresh (2+1)D video student.
Accelerator: None (about 2 minutes on a 2-core CPU; `--full` for the `aip distill --modality=video` budget)
"""

"""
## Introduction

For video, the paper turns one image into clips: crop a square, pick two random boxes in it and
move the "camera" smoothly from one to the other over 8 frames (colour jitter once per clip).
The video policy then zooms and flips each clip, keeps 4 of the 8 frames and applies CutMix
over height x width with the same box on every frame. A frozen clip classifier labels the
clips; a fresh clip student learns to match it.

The teacher here is the zoo's `video_cnn` trained on `cifar10_clips`: a proxy video task made
from real CIFAR-10 images, each turned into an 8-frame clip by a camera move (no Kinetics can
be downloaded offline; `docs/results-video.md` says what this proxy shows and what it does not).
The test set is built from CIFAR-10's JPEG tar, found in `$AIP_SHARED_DATA` (or
`../shared/data` next to a checkout).

```
python examples/distill_video.py                     # about 2 minutes
python examples/distill_video.py --source chelsea    # another photo, an image path, or a video file
python examples/distill_video.py --full              # the recipe's budget (much longer)
```
"""

"""
## Setup
"""

# Notebook style: text cells and environment variables come before the imports.
# ruff: noqa: E402
import argparse
import os
import pathlib
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from aip_keras import jobs
from aip_keras.config import DistillConfig

parser = argparse.ArgumentParser(description="Distil a video classifier from one photo.")
parser.add_argument("--output_dir", default=None, help="the run folder (default: runs/examples/distill_video-<time>)")
parser.add_argument("--source", default="astronaut",
                    help="a photo name, an image path, 'noise', or a video file (pip install 'aip_keras[video]')")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--patches_per_epoch", type=int, default=3840, help="clips per epoch")
parser.add_argument("--eval_limit", type=int, default=1000, help="test clips to evaluate on (0: all 10,000)")
parser.add_argument("--full", action="store_true", help="the video recipe's own budget, all test clips")
args = parser.parse_args()
output_dir = pathlib.Path(args.output_dir or f"runs/examples/distill_video-{time.strftime('%Y%m%d-%H%M%S')}")

"""
## The recipe

`DistillConfig(modality="video")` takes the video recipe for every field left unset: the zoo's
clip teacher, the `video_cnn` student ((2+1)D convolutions, 0.16M parameters), `cifar10_clips`
as the test set, the `"video"` policy and the paper's video temperature, 5. The teacher takes
4 frames of 32 x 32; the source clips have 8 frames (`frame_stride=2`), and the final test
averages the softmax over both 4-frame windows of each test clip.
"""

budget = {} if args.full else {"epochs": args.epochs, "patches_per_epoch": args.patches_per_epoch}
config = DistillConfig(modality="video", source=args.source, eval_limit=args.eval_limit, val_limit=500,
                       **budget)
print(f"video recipe: teacher={config.teacher} student={config.student} eval={config.eval} "
      f"augment={config.augment} temperature={config.temperature} source={config.source}")

"""
## Distillation

`run_distillation` builds the fake-clip stream of the photo, applies the video policy, distils,
evaluates with several temporal windows per test clip, and writes `student.keras`, `run.json`,
`history.csv` and TensorBoard logs into the run folder.
"""

try:
    run = jobs.run_distillation(config, output_dir, verbose=2)
except ValueError as error:  # e.g. the CIFAR-10 tar is not in the shared data folder
    raise SystemExit(f"error: {error}") from None

"""
## Results

At this budget (a few thousand clips) a photo already teaches well above chance (10%), and
above noise; `docs/results-video.md` compares sources at a longer budget.
"""

print(f"teacher accuracy: {run['teacher_accuracy']:.4f}   student accuracy: {run['student_accuracy']:.4f}   "
      f"agreement: {run['agreement']:.4f}   ({run['metrics']['num_examples']} test clips, {config.eval}, "
      f"source {config.source!r})")
print(f"{run['samples_seen']:,} clips in {run['train_seconds']:.0f} s; windows {run['eval_windows']}; "
      f"run folder {output_dir} ({', '.join(sorted(p.name for p in output_dir.iterdir()))})")

"""
## Using the student

`keras.saving.load_model(output_dir / "student.keras")` gives a model taking
`(batch, 4, 32, 32, 3)` clips in [0, 1]; `aip evaluate --modality=video --student=...` scores it
with the same multi-window test.
"""
