"""
Title: Distilling a spoken-digit classifier from one audio clip
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: The single-datum idea for sound: random crops of one long recording teach a fresh waveform classifier.
Accelerator: None (about 2 minutes on a 2-core CPU; `--full` for the `aip distill --modality=audio` budget)
"""

"""
## Introduction

The Augmented Image Prior paper also distils audio classifiers from a single clip. aip_keras does
the same with waveforms: one long recording is cut into random 1-second crops, each crop is
augmented (speed, shifts, fades, mixing two crops, gain, noise, SpecAugment-style masks on the
waveform), and a frozen teacher labels them for a fresh student.

Here the teacher is the zoo's spoken-digit model (Free Spoken Digit Dataset, 10 digits, 99%
test accuracy); the student is the same small `audio_cnn` with random weights; the source is
the speech clip the audio recipe names (`speech_prompts`: about a minute of telephone-system
voice prompts with no digits in them, bundled with the package, CC-BY-SA 3.0; see
`aip_keras/data/audio/README.md`). No digit recording is used in training.

Where the image example wired the pieces by hand, this one uses the job layer: a
`DistillConfig` holds the whole run (what `aip distill --modality=audio` builds from its flags,
and what `run.json` records), and `jobs.run_distillation` runs it.

```
python examples/distill_audio.py                   # about 2 minutes
python examples/distill_audio.py --source my.wav   # your own recording (WAV/FLAC/OGG)
python examples/distill_audio.py --full            # the recipe's budget, 120,000 crops (about 15 minutes)
```

The test set (FSDD) is read from the shared data folder: `fsdd-recordings.tar.gz` in
`$AIP_SHARED_DATA` (or `../shared/data` next to a checkout).
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

from aip_keras import jobs, sources
from aip_keras.config import DistillConfig

parser = argparse.ArgumentParser(description="Distil a spoken-digit classifier from one audio clip.")
parser.add_argument("--output_dir", default=None,
                    help="the run folder (default: runs/examples/distill_audio-<time>)")
parser.add_argument("--source", default=None,
                    help="the one clip: an audio file path, or a bundled name (default: the audio recipe's clip)")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--patches_per_epoch", type=int, default=4096, help="1-second crops per epoch")
parser.add_argument("--eval_limit", type=int, default=0, help="test clips to evaluate on (0: all 300)")
parser.add_argument("--full", action="store_true", help="the audio recipe's own budget (its epochs and crops)")
args = parser.parse_args()
output_dir = pathlib.Path(args.output_dir or f"runs/examples/distill_audio-{time.strftime('%Y%m%d-%H%M%S')}")

"""
## The recipe

`DistillConfig(modality="audio")` fills every field you leave unset from the audio recipe
(`aip_keras.config.RECIPES["audio"]`): teacher, student, source clip, evaluation set, the
`"audio"` augmentation chain, temperature 4, learning rate and batch size. Anything you pass
explicitly wins, even a value equal to the image default.
"""

recipe = DistillConfig(modality="audio")
print(f"audio recipe: teacher={recipe.teacher} student={recipe.student} source={recipe.source} "
      f"eval={recipe.eval} temperature={recipe.temperature} batch_size={recipe.batch_size}")

"""
## The source clip

`sources.load_clip` reads a file (resampled to the teacher's 16 kHz) or a bundled name;
`"noise"` is white noise, the control that should teach nothing. If the recipe's bundled clip is
missing from this installation, the example falls back to `"noise"` and says so.
"""

source = args.source or recipe.source
try:
    clip = sources.load_clip(source, sample_rate=16000)
    print(f"source clip {source!r}: {len(clip) / 16000:.0f} s at 16 kHz")
except ValueError as error:
    if args.source:
        raise SystemExit(f"error: {error}") from None
    print(f"note: the recipe's clip {source!r} is not available here ({str(error).splitlines()[0]}); "
          "using 'noise' instead: expect chance accuracy (10%)")
    source = "noise"

"""
## Distillation

Only the budget and the source are given; the rest comes from the recipe. `run_distillation`
writes `student.keras`, `run.json` (config, metrics, timings), `history.csv` and TensorBoard
logs into the run folder, and returns the `run.json` contents.
"""

budget = {} if args.full else {"epochs": args.epochs, "patches_per_epoch": args.patches_per_epoch}
config = DistillConfig(modality="audio", source=source, eval_limit=args.eval_limit, **budget)
try:
    run = jobs.run_distillation(config, output_dir, verbose=2)
except ValueError as error:  # e.g. the FSDD test set is not in the shared data folder
    raise SystemExit(f"error: {error}") from None

"""
## Results

The student is scored on the FSDD test recordings (real, labelled digits) beside the teacher.
With the bundled speech clip it goes well above chance (10%) within minutes; with more crops it
gets close to the teacher (`docs/results-audio.md`).
"""

print(f"teacher accuracy: {run['teacher_accuracy']:.4f}   student accuracy: {run['student_accuracy']:.4f}   "
      f"agreement: {run['agreement']:.4f}   ({run['metrics']['num_examples']} test clips, {config.eval}, "
      f"source {source!r})")
print(f"{run['samples_seen']:,} crops in {run['train_seconds']:.0f} s; run folder {output_dir} "
      f"({', '.join(sorted(p.name for p in output_dir.iterdir()))})")

"""
## Using the student

The student is a waveform classifier: it takes `(batch, 16000)` float32 samples in [-1, 1] and
returns digit logits. It contains aip_keras' log-mel front end, so import `aip_keras` (or
`aip_keras.front_end`) before `keras.saving.load_model(output_dir / "student.keras")`.
"""
