"""
Title: Label-free distillation from one image next to `keras.distillation`
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: The same teacher, student and budget, distilled twice: by aip_keras from crops of one photo without labels, and by Keras' own Distiller from the real labelled training images.
Accelerator: None (about 2.5 minutes on a 2-core CPU)
"""

"""
## Introduction

Keras 3 ships `keras.distillation.Distiller`: classic knowledge distillation, where the student
learns from the teacher's softened outputs **and** the true labels of real training images.
aip_keras' `Distiller` solves a different problem: no training images and no labels at all,
only augmented crops of one image. (Keras' Distiller needs a label in every batch for its
student loss, so it cannot take the x-only single-image stream as is.)

This example runs both for the same number of steps of the same batch size, with the same
teacher (the zoo's Fashion-MNIST `small_cnn`, 92% test accuracy), the same fresh `small_cnn`
student architecture and the same temperature, and prints both students' test accuracy. Expect
real labelled data to win by a wide margin at this tiny budget; the point of the paper is how
much of that gap one image closes with a long enough budget (`docs/results.md`).

```
python examples/aip_vs_keras_distillation.py            # 2 x 120 steps, about 2.5 minutes
python examples/aip_vs_keras_distillation.py --steps 800 --eval_limit 0
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

from aip_keras import Distiller, augment, datasets, models, sources, teachers
from aip_keras.evaluate import compare

parser = argparse.ArgumentParser(description="aip_keras.Distiller (one image) vs keras.distillation (real data).")
parser.add_argument("--output_dir", default=None, help="default: runs/examples/aip_vs_keras_distillation-<time>")
parser.add_argument("--steps", type=int, default=120, help="training steps of each distiller (one epoch)")
parser.add_argument("--batch_size", type=int, default=128)
parser.add_argument("--source", default="astronaut", help="aip_keras' one image")
parser.add_argument("--eval_limit", type=int, default=2000, help="test images to evaluate on (0: all)")
args = parser.parse_args()
output_dir = pathlib.Path(args.output_dir or
                          f"runs/examples/aip_vs_keras_distillation-{time.strftime('%Y%m%d-%H%M%S')}")
output_dir.mkdir(parents=True, exist_ok=True)
TEMPERATURE = 8.0


def optimizer():
    return keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(2e-3, args.steps))


def fresh_student():
    keras.utils.set_random_seed(0)  # both students start from the same weights
    return models.build("small_cnn", (28, 28, 1), num_classes=10)


"""
## Teacher and data

Keras' Distiller trains on Fashion-MNIST's real training split (Debian's
`dataset-fashion-mnist`). Without it, both use the bundled test split cut into two disjoint
parts: 70% to train on, 30% to test on.
"""

teacher, teacher_spec = teachers.load_teacher("zoo:fashion_mnist-teacher-small_cnn")
full_test = datasets.load("fashion_mnist", split="test")
try:
    train_set, test_set = datasets.load("fashion_mnist", split="train"), full_test
except ValueError:
    print("note: no Fashion-MNIST training split here: training Keras' Distiller on 70% of the test split")
    train_set, test_set = datasets.split_validation(full_test, fraction=0.3, seed=0)
test_data = test_set.dataset(256, shuffle=True, limit=args.eval_limit or None)

"""
## aip_keras: one image, no labels

Patches of one photo, the `"cifar"` batch policy with CutMix, KL at temperature 8. The stream
holds images only.
"""

patches = sources.single_image_dataset(args.source, patch_size=28, channels=1, batch_size=args.batch_size)
aip_train = augment.apply_policy(patches, augment.build_policy("cifar", image_size=28))
aip_student = fresh_student()
aip = Distiller(teacher, aip_student, temperature=TEMPERATURE, teacher_input_spec=teacher_spec)
aip.compile(optimizer=optimizer(), metrics=["accuracy"])
start = time.time()
aip.fit(aip_train, steps_per_epoch=args.steps, epochs=1, verbose=2)
aip_seconds = time.time() - start

"""
## `keras.distillation`: real images with labels

`LogitsDistillation` is the same softened-logits KL; `student_loss_weight=0.5` mixes it
equally with the cross-entropy on the true labels (the student outputs logits, hence
`from_logits=True`). The real images get the supervised flip + pad-and-crop augmentation.
"""

keras_train = train_set.dataset(args.batch_size, shuffle=True, seed=0).repeat()
flip_crop = augment.build_policy("cifar", image_size=28, cutmix_alpha=0.0)  # no CutMix: labels are not mixed
keras_train = keras_train.map(lambda x, y: (flip_crop(x, training=True), y))
keras_student = fresh_student()
classic = keras.distillation.Distiller(
    teacher=teacher,
    student=keras_student,
    distillation_losses=keras.distillation.LogitsDistillation(temperature=TEMPERATURE),
    student_loss_weight=0.5,
)
classic.compile(optimizer=optimizer(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
start = time.time()
classic.fit(keras_train, steps_per_epoch=args.steps, epochs=1, verbose=2, shuffle=False)
keras_seconds = time.time() - start

"""
## Side by side

Both students on the same test images; `agreement` is how often a student's top-1 equals the
teacher's.
"""

samples = args.steps * args.batch_size
aip_result = compare(aip_student, test_data, teacher=teacher, teacher_spec=teacher_spec)
keras_result = compare(keras_student, test_data, teacher=teacher, teacher_spec=teacher_spec)
print(f"teacher accuracy: {aip_result['teacher_top1']:.4f}   ({aip_result['num_examples']} test images, "
      f"fashion_mnist; each student saw {samples:,} samples)")
print(f"aip_keras.Distiller ({args.source}, no labels) student accuracy: {aip_result['student_top1']:.4f}   "
      f"agreement: {aip_result['agreement']:.4f}   train {aip_seconds:.0f} s")
print(f"keras.distillation.Distiller (real images + labels) student accuracy: {keras_result['student_top1']:.4f}   "
      f"agreement: {keras_result['agreement']:.4f}   train {keras_seconds:.0f} s")
aip_student.save(output_dir / "aip_student.keras")
keras_student.save(output_dir / "keras_student.keras")
print(f"saved {output_dir / 'aip_student.keras'} and {output_dir / 'keras_student.keras'}")
