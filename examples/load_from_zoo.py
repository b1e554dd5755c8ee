"""
Title: Loading a distilled student from the model zoo (and from `hf://`)
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: List the aip_keras zoo, load a student with its input convention, evaluate it, and load the same model with plain Keras from a Hugging Face cache, offline.
Accelerator: None (under a minute on a 2-core CPU)
"""

"""
## Introduction

The aip_keras zoo holds the teachers this project trained and the students it distilled from
single images (and one audio clip). Each entry is a Keras 3 model folder (`config.json`,
`model.weights.h5`, `metadata.json`) with a model card, meant for a Hugging Face Hub repository
`aip-keras/<name>`; `index.json` records each entry's repo, pinned revision, file checksums, test
accuracy and input convention.

`aip_keras.zoo.load(name)` looks in the zoo's folders (a source checkout's `zoo/`, your own
`$AIP_ZOO_DIR`, the teachers bundled in the package), then the Hugging Face cache, then the Hub.
Without aip_keras, a model on the Hub loads with plain Keras:
`keras.saving.load_model("hf://aip-keras/<name>")`.

```
python examples/load_from_zoo.py
python examples/load_from_zoo.py --name cifar10-small_cnn-from-china   # needs CIFAR-10 ($AIP_SHARED_DATA)
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
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from aip_keras import datasets, zoo
from aip_keras.evaluate import compare

parser = argparse.ArgumentParser(description="Load a student from the zoo and evaluate it.")
parser.add_argument("--output_dir", default=None,
                    help="where the example Hugging Face cache goes (default: runs/examples/load_from_zoo-<time>)")
parser.add_argument("--name", default="fashion_mnist-small_cnn-from-astronaut", help="a zoo entry name")
parser.add_argument("--eval_limit", type=int, default=0, help="test images to evaluate on (0: all)")
args = parser.parse_args()
output_dir = pathlib.Path(args.output_dir or f"runs/examples/load_from_zoo-{time.strftime('%Y%m%d-%H%M%S')}")
output_dir.mkdir(parents=True, exist_ok=True)

"""
## What the zoo holds

`zoo.list()` returns the index entries. `local` says whether the entry's folder is on this
machine; `published` whether its Hub repository exists at a pinned revision.
"""

print(f"{'name':42s} {'kind':8s} {'dataset':14s} {'accuracy':>8s}  local  published")
for entry in zoo.list():
    print(f"{entry['name']:42s} {entry['kind']:8s} {entry['dataset']:14s} {entry['accuracy']:8.4f}  "
          f"{str(entry['local']):5s}  {entry.get('published')}")

"""
## Load a student

`zoo.load` returns `(model, input_spec)` like `teachers.load_teacher`, plus where the model came
from. The files are checked against the SHA-256 sums in the index, and the model is loaded in
Keras' safe mode.

An installed package bundles only the teachers of the offline defaults; students come from the
Hub (or a copy of its cache). If the student is not reachable here, the example falls back to
the bundled Fashion-MNIST teacher, and says so.
"""

name = args.name
try:
    loaded = zoo.load(name)
except ValueError as error:
    print(f"note: {name} cannot be loaded here ({str(error).splitlines()[0][:160]}...); "
          "loading the bundled fashion_mnist-teacher-small_cnn instead")
    name = "fashion_mnist-teacher-small_cnn"
    loaded = zoo.load(name)
model, spec = loaded
entry = zoo.info(name)
print(f"loaded {name} from {loaded.source} ({loaded.folder}): {model.count_params():,} parameters, "
      f"input {tuple(model.input_shape)}, repo {loaded.repo_id}")

"""
## Evaluate it

The entry names its test set; `compare` scores the model through its `InputSpec` (here the
identity: the project's models take [0, 1] images and normalise inside).
"""

try:
    test = datasets.load(entry["dataset"], split="test")
except ValueError as error:
    raise SystemExit(f"error: the test set {entry['dataset']!r} is not available ({str(error).splitlines()[0]})") \
        from None
results = compare(model, test.dataset(256, shuffle=True, limit=args.eval_limit or None), student_spec=spec)
print(f"student accuracy: {results['student_top1']:.4f}   (index: {entry['accuracy']:.4f}; "
      f"{results['num_examples']} test images, {entry['dataset']})")

"""
## Plain Keras and `hf://`

On the Hub, the same model loads without aip_keras:

```python
import keras
model = keras.saving.load_model("hf://aip-keras/fashion_mnist-small_cnn-from-astronaut")
```

Keras asks `huggingface_hub` for a snapshot of the repository, which lives in the Hugging Face
cache (`~/.cache/huggingface/hub`, or `$HF_HUB_CACHE` / `$HF_HOME/hub`). With
`HF_HUB_OFFLINE=1` nothing is downloaded: the cache alone answers, so a machine without network
works from a cache copied from one with network (`aip zoo pull <name>` fills it).

To show this offline, the example puts the entry's files into a fresh cache folder in the
layout `huggingface_hub` uses (`models--<owner>--<name>/refs/main` holding a revision,
`snapshots/<revision>/<files>`), then loads `hf://<repo>` in a new Python process that has
`HF_HUB_OFFLINE=1` and has **not** imported aip_keras. `zoo.requires` reads from the model's
config what such a process must import: `["keras"]` for the image models, `["aip_keras"]` for
the audio ones (their log-mel front end is an aip_keras layer).
"""

cache = pathlib.Path(tempfile.mkdtemp(prefix="hf-cache-", dir=output_dir))
revision = entry.get("revision") or "0" * 40
repo_dir = cache / f"models--{loaded.repo_id.replace('/', '--')}"
snapshot = repo_dir / "snapshots" / revision
snapshot.mkdir(parents=True)
for path in pathlib.Path(loaded.folder).iterdir():
    if path.is_file():
        (snapshot / path.name).write_bytes(path.read_bytes())
(repo_dir / "refs").mkdir()
(repo_dir / "refs" / "main").write_text(revision)

needs = zoo.requires(json.loads((snapshot / "config.json").read_text()))
imports = "".join(f"import {package}; " for package in needs if package != "keras")
code = (f"{imports}import sys, keras; model = keras.saving.load_model('hf://{loaded.repo_id}'); "
        "print(f'{model.name}: {model.count_params():,} parameters'); "
        "print('aip_keras imported:', 'aip_keras' in sys.modules)")
env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
if child.returncode != 0:
    raise SystemExit(f"error: hf:// load failed:\n{child.stderr[-2000:]}")
print(f"plain Keras, hf://{loaded.repo_id}, HF_HUB_OFFLINE=1, needs {needs}: {child.stdout.strip().replace(chr(10), '; ')}")
