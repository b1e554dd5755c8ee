"""
Title: Distilling a classifier from a single image
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Train a fresh Fashion-MNIST student from augmented crops of one photo, with no training images and no labels.
Accelerator: None (about 2 minutes on a 2-core CPU; `--full` for about 10)
"""

"""
## Introduction

*The Augmented Image Prior* (Asano & Saeed, ICLR 2023) shows that a pretrained classifier
(the **teacher**) can be distilled into a freshly initialised network (the **student**) using
nothing but heavily augmented crops of **one** image. The teacher never sees its own training
data again and no labels are used: the student learns to match the teacher's softened outputs
on crops of, here, an astronaut's portrait, and is then judged on the real Fashion-MNIST test set.

This example walks through the whole flow with the public Python API of `aip_keras`:

1. load the bundled Fashion-MNIST teacher from the model zoo;
2. build a small student;
3. stream augmented patches of one photo, then the batch policy (flips, crops, CutMix);
4. distil with `aip_keras.Distiller`;
5. evaluate teacher and student side by side, and save the student.

Run it with:

```
python examples/distill_from_one_image.py                    # about 2 minutes
python examples/distill_from_one_image.py --full             # the `aip distill` default budget
python examples/distill_from_one_image.py --steps 20 --epochs 1 --eval_limit 500   # a smoke test
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
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up lines

import keras

from aip_keras import Distiller, augment, datasets, models, sources, teachers
from aip_keras.evaluate import compare, format_comparison

parser = argparse.ArgumentParser(description=__doc__.split("Description: ")[1].split("\n")[0])
parser.add_argument("--output_dir", default=None,
                    help="where student.keras goes (default: runs/examples/distill_from_one_image-<time>)")
parser.add_argument("--source", default="astronaut",
                    help="the one image: a photo name (astronaut, chelsea, coffee, rocket, china, "
                         "hubble_deep_field, noise) or an image path")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--steps", type=int, default=80, help="training steps (batches) per epoch")
parser.add_argument("--batch_size", type=int, default=128)
parser.add_argument("--eval_limit", type=int, default=2000,
                    help="test images to evaluate on (a seeded random subset; 0: all 10,000)")
parser.add_argument("--full", action="store_true",
                    help="the `aip distill` default budget: 6 epochs of 156 steps, all 10,000 test images")
args = parser.parse_args()
if args.full:
    args.epochs, args.steps, args.eval_limit = 6, 156, 0
output_dir = pathlib.Path(args.output_dir or f"runs/examples/distill_from_one_image-{time.strftime('%Y%m%d-%H%M%S')}")
output_dir.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(0)

"""
## The teacher

`load_teacher` accepts many forms (a `.keras` file, `keras.applications:<Name>`,
`kerashub:<preset>`, `hf://<repo>`, ...). `zoo:<name>` reads a model of the aip_keras zoo; the
default teachers ship inside the package, so this works offline from a plain `pip install`.

It returns the frozen model and an `InputSpec`: what the teacher expects as input (size,
channels, value range, normalisation). Every stage of aip_keras passes images in [0, 1]; the
`InputSpec` converts them into the teacher's own view.
"""

teacher, teacher_spec = teachers.load_teacher("zoo:fashion_mnist-teacher-small_cnn")
print(f"teacher: {teacher.name}, {teacher.count_params():,} parameters, input {teacher_spec.to_dict()}")

"""
## The student

A fresh, randomly initialised network from the model registry (`models.list_models()` lists the
names). It sees the same 28 x 28 grey patches as the teacher.
"""

student = models.build("small_cnn", (28, 28, 1), num_classes=10)
print(f"student: small_cnn, {student.count_params():,} parameters")

"""
## Patches of one image

`single_image_dataset` turns one image into an endless, seeded `tf.data` stream of augmented
crops (random resized crops down to 1/500 of the area, rotation, shear, colour jitter): the
paper's patch chain. `channels=1` converts to grey, like Fashion-MNIST.

The batch policy then works on whole batches: the `"cifar"` preset flips, pads and crops, and
mixes each batch with CutMix. The teacher labels the mixed image, so no labels are mixed.
The stream yields `x` only: there are no labels anywhere in training.
"""

patches = sources.single_image_dataset(args.source, patch_size=28, channels=1, batch_size=args.batch_size)
policy = augment.build_policy("cifar", image_size=28)
train = augment.apply_policy(patches, policy)

"""
## Distillation

`Distiller` is a `keras.Model`. Its loss is set by its constructor: the KL divergence between the
teacher's and the student's outputs softened at temperature tau (8, as in the paper), so
`compile` takes an optimizer and metrics only (`compile(loss=...)` is an error). Metrics such as
accuracy are computed on the labelled validation data; the teacher-student `agreement` is
always reported.
"""

test = datasets.load("fashion_mnist", split="test")
distiller = Distiller(teacher, student, temperature=8.0, teacher_input_spec=teacher_spec)
distiller.compile(
    optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(2e-3, args.epochs * args.steps)),
    metrics=["accuracy"],
)
start = time.time()
distiller.fit(
    train,
    steps_per_epoch=args.steps,
    epochs=args.epochs,
    validation_data=test.dataset(256, shuffle=True, limit=min(args.eval_limit or 2000, 2000)),  # a quick look
    verbose=2,
)
print(f"distilled on {args.epochs * args.steps * args.batch_size:,} patches of {args.source!r} "
      f"in {time.time() - start:.0f} s")

"""
## Evaluation

`compare` scores student and teacher on the same real, labelled test images (top-1, top-5) and
how often their top-1 predictions agree.
"""

results = compare(student, test.dataset(256, shuffle=True, limit=args.eval_limit or None), teacher=teacher,
                  teacher_spec=teacher_spec)
print(format_comparison(results))
print(f"teacher accuracy: {results['teacher_top1']:.4f}   student accuracy: {results['student_top1']:.4f}   "
      f"agreement: {results['agreement']:.4f}   ({results['num_examples']} test images, fashion_mnist)")

"""
## Saving the student

Save the student alone (not the Distiller, which also holds the teacher). It is a plain Keras
model: `keras.saving.load_model(path)` reads it back.
"""

path = output_dir / "student.keras"
student.save(path)
print(f"saved {path}")

"""
## Where next

- A longer budget helps most: `--full` is the `aip distill` default, and the README's result
  table shows how accuracy grows with machine-minutes.
- Other photos teach differently (`--source=chelsea`, `--source=noise` as a control).
- `examples/tune_then_distill.py` searches the augmentation policy for a given teacher and image.
"""
