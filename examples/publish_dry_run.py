"""
Title: Publishing a distilled student to the Hugging Face Hub (dry run)
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Distil a tiny student, turn its run folder into a zoo entry with a model card, and see exactly which files `aip_keras.zoo.publish` would upload.
Accelerator: None (about a minute on a 2-core CPU)
"""

"""
## Introduction

A distilled student is worth sharing with what produced it: the teacher it came from, the
image, the budget and the measured accuracy. `aip_keras.zoo` packages that:

1. `jobs.run_distillation` writes a run folder (`student.keras`, `run.json`, `history.csv`);
2. `zoo.write_entry(folder, from_run=run_folder)` turns it into a zoo entry: the model in
   Keras' folder layout (what `keras.saving.load_model("hf://...")` reads), a model card whose
   numbers all come from `run.json`, `.eval_results/<dataset>.yaml` for the Hub, and the
   training log;
3. `zoo.publish(folder)` uploads it as one commit; `dry_run=True` uploads nothing and writes
   the staging folder, the exact set of files, to disk instead.

Everything here happens in a private zoo folder under `--output_dir`: the zoo of the package (or
of your checkout) is not touched. No network and no token are needed for a dry run; a real push
reads the token from `HF_TOKEN` (or `hf auth login`) and never prints it.

```
python examples/publish_dry_run.py
python examples/publish_dry_run.py --owner my-hf-name --patches_per_epoch 20000 --epochs 3
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

import keras

from aip_keras import jobs, zoo
from aip_keras.config import DistillConfig

parser = argparse.ArgumentParser(description="Distil a tiny student and dry-run its upload to the Hub.")
parser.add_argument("--output_dir", default=None, help="default: runs/examples/publish_dry_run-<time>")
parser.add_argument("--owner", default="your-hf-name", help="the Hub user or organisation to publish under")
parser.add_argument("--source", default="astronaut", help="the one image")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--patches_per_epoch", type=int, default=2560)
parser.add_argument("--eval_limit", type=int, default=2000, help="test images for the card's accuracy (0: all)")
args = parser.parse_args()
output_dir = pathlib.Path(args.output_dir or f"runs/examples/publish_dry_run-{time.strftime('%Y%m%d-%H%M%S')}")

"""
## A student to publish

The offline default of `aip distill` (the bundled Fashion-MNIST teacher, a `small_cnn`
student, crops of one photo) at a tiny budget. Its run folder is what gets published.
"""

config = DistillConfig(source=args.source, epochs=args.epochs, patches_per_epoch=args.patches_per_epoch,
                       eval_limit=args.eval_limit, val_limit=500)
run_dir = output_dir / "run"
run = jobs.run_distillation(config, run_dir, verbose=2)
print(f"teacher accuracy: {run['teacher_accuracy']:.4f}   student accuracy: {run['student_accuracy']:.4f}   "
      f"agreement: {run['agreement']:.4f}   ({run['metrics']['num_examples']} test images, fashion_mnist)")

"""
## A zoo entry with a model card

Entries are named after their recipe (`<dataset>-<student>-from-<source>`). `zoo=` points at a
private zoo folder (otherwise: `$AIP_ZOO_DIR`, a checkout's `zoo/`, or a user cache folder;
never the installed package). The card names the teacher's Hub repo as `base_model`, states
the accuracy in `model-index`, and says exactly what loading the model needs.
"""

my_zoo = output_dir / "my_zoo"
entry_folder = my_zoo / f"fashion_mnist-small_cnn-from-{pathlib.Path(args.source).stem}"
entry = zoo.write_entry(entry_folder, from_run=run_dir, zoo=my_zoo, owner=args.owner,
                        base_model="aip-keras/fashion_mnist-teacher-small_cnn")
print(f"zoo entry {entry_folder.name}: repo {entry['repo_id']}, accuracy {entry['accuracy']:.4f}, "
      f"loading needs {entry['requires']}")
card = (entry_folder / "README.md").read_text()
print("model card front matter:\n  " + "\n  ".join(card.split("---")[1].strip().splitlines()[:12]) + "\n  ...")

"""
## The dry run

`publish(..., dry_run=True, output=folder)` stages the upload exactly as a real push would
(checking the files against the index and that the model loads in Keras' safe mode) and writes
the staging folder to `output`. It returns the files and the keyword arguments of the
`HfApi.create_repo` / `HfApi.upload_folder` calls it would make.
"""

upload = zoo.publish(entry_folder, dry_run=True, output=output_dir / "upload", zoo=my_zoo)
print(f"would upload to https://huggingface.co/{upload['repo_id']} ({upload['upload_folder']['commit_message']!r}):")
for name in upload["files"]:
    print(f"  {name:40s} {(upload['folder'] / name).stat().st_size:>10,} bytes")

"""
A bare `keras.Model` can be published too (with a minimal card); `repo_id` is then required.
"""

student = keras.saving.load_model(run_dir / "student.keras")
bare = zoo.publish(student, repo_id=f"{args.owner}/my-first-student", dry_run=True,
                   output=output_dir / "upload-model")
print(f"a bare model would upload: {', '.join(bare['files'])}")

"""
## The real push

Set `HF_TOKEN` to a write token and drop `dry_run`:

```python
zoo.publish(entry_folder, zoo=my_zoo)            # or: aip zoo push <name>
```

The commit hash is then pinned in the zoo's `index.json` (`published: true`), so
`zoo.load(name)` and `keras.saving.load_model("hf://<owner>/<name>")` on another machine get
exactly these files.
"""
