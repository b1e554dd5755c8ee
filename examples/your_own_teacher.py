"""
Title: Your own teacher and your own photo
Author: aip_keras developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Bring a teacher as a `.keras` file, a `keras.applications` model with your weights, or a keras-hub preset folder, state its input convention, and distil it from your photo.
Accelerator: None (about 2 minutes on a 2-core CPU)
"""

"""
## Introduction

`examples/distill_from_one_image.py` used a teacher from the aip_keras zoo. Here the teacher is
yours. `aip_keras.teachers.load_teacher` reads the common forms a Keras classifier comes in; this
example shows three of them, fully offline:

1. **a `.keras` file**: any Keras 3 model saved with `model.save("teacher.keras")`;
2. **a `keras.applications` architecture with your own weights**: build it with
   `weights=None`, load your weights, save it as `.keras`;
3. **a keras-hub preset folder**: what `ImageClassifier.save_to_preset(folder)` writes,
   loaded as `kerashub:<folder>`.

Real teachers take days to train; to stay offline and quick, this example trains a small
stand-in of each kind for about 20 seconds on Fashion-MNIST. With your own model, skip the
training and pass its path.

The one thing to get right with a foreign teacher is its **input convention**: aip_keras passes
images as float32 in [0, 1] and gives each model its own view through an `InputSpec` (size,
channels, value range, mean/std). A `.keras` file does not record what its pixels should look
like, so you state it.

```
python examples/your_own_teacher.py                                 # about 2 minutes
python examples/your_own_teacher.py --photo my_photo.jpg --teacher kerashub
python examples/your_own_teacher.py --full                          # longer teacher training and distillation
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
from PIL import Image

from aip_keras import Distiller, InputSpec, augment, datasets, jobs, models, sources, teachers
from aip_keras.config import TeacherConfig
from aip_keras.evaluate import compare

KINDS = ("keras_file", "applications", "kerashub")
parser = argparse.ArgumentParser(description="Distil your own teacher from your own photo.")
parser.add_argument("--output_dir", default=None,
                    help="where the teachers and student.keras go (default: runs/examples/your_own_teacher-<time>)")
parser.add_argument("--photo", default=None,
                    help="your photo (any image file); default: scikit-image's coffee photo written to a PNG")
parser.add_argument("--teacher", choices=KINDS, default="applications",
                    help="which of the three teachers to distil from")
parser.add_argument("--teacher_steps", type=int, default=80, help="training steps of each stand-in teacher")
parser.add_argument("--epochs", type=int, default=1, help="distillation epochs")
parser.add_argument("--steps", type=int, default=120, help="distillation steps per epoch")
parser.add_argument("--eval_limit", type=int, default=2000, help="test images to evaluate on (0: all)")
parser.add_argument("--full", action="store_true", help="5x the teacher steps, 3 epochs of 300 steps, all test images")
args = parser.parse_args()
if args.full:
    args.teacher_steps, args.epochs, args.steps, args.eval_limit = 5 * args.teacher_steps, 3, 300, 0
output_dir = pathlib.Path(args.output_dir or f"runs/examples/your_own_teacher-{time.strftime('%Y%m%d-%H%M%S')}")
output_dir.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(0)
BATCH = 128

"""
## Your photo

Any image file works (PNG, JPEG, ...; EXIF orientation is applied, transparency composited on
white). Without `--photo`, this writes one of the photos bundled with scikit-image to a PNG and
uses its path, as you would use yours. A photo full of varied objects, edges and textures
teaches better than a flat one.
"""

if args.photo:
    photo = pathlib.Path(args.photo)
else:
    photo = output_dir / "coffee.png"
    Image.fromarray(sources.load_image("coffee")).save(photo)
print(f"photo: {photo} {sources.load_image(photo).shape}")

"""
## Labelled data for the stand-in teachers

The teachers are trained on Fashion-MNIST's training split (Debian's `dataset-fashion-mnist`).
Without it, they train on 70% of the bundled test split and everything is evaluated on the other,
disjoint 30%.
"""

full_test = datasets.load("fashion_mnist", split="test")
try:
    train_set = datasets.load("fashion_mnist", split="train")
    test_set = full_test
except ValueError as error:
    print(f"note: no Fashion-MNIST training split ({str(error).splitlines()[0][:120]}...): "
          "training the stand-in teachers on 70% of the test split instead")
    train_set, test_set = datasets.split_validation(full_test, fraction=0.3, seed=0)
eval_limit = args.eval_limit or None
eval_data = test_set.dataset(256, shuffle=True, limit=eval_limit)
teacher_epochs = 2 if args.full else 1
train_limit = args.teacher_steps * BATCH // teacher_epochs

"""
## Kind 1: a `.keras` file

`aip_keras.jobs.train_teacher` trains a registry model (here the 18k-parameter `tiny_cnn`) on a
labelled set (this is what `aip train-teacher` runs) and saves it as `.keras`. Our own models take [0, 1] images and
normalise inside, so `load_teacher` needs no `InputSpec` for them: the default reads the input
size and channels from the model and assumes [0, 1] values.
"""

keras_file = output_dir / "my_teacher.keras"
try:
    config = TeacherConfig(data="fashion_mnist", arch="tiny_cnn", epochs=teacher_epochs,
                           train_limit=train_limit)
    info = jobs.train_teacher(config, keras_file, verbose=2)
    print(f"trained {keras_file}: test accuracy {info['test_accuracy']:.4f}")
except ValueError as error:  # no training split here: keep the zoo's teacher as the .keras file
    print(f"note: jobs.train_teacher needs the training split ({str(error).splitlines()[0][:80]}...): "
          "saving the zoo's Fashion-MNIST teacher as the .keras file instead")
    teachers.load_teacher("zoo:fashion_mnist-teacher-small_cnn")[0].save(keras_file)
keras_file_teacher = teachers.load_teacher(keras_file)

"""
## Kind 2: a `keras.applications` model with your weights

Say you fine-tuned a `keras.applications` network and kept its weights (`.weights.h5`). Build the
same architecture with `weights=None`, load the weights, and save the whole model as `.keras`.

Its input convention is the architecture's: MobileNetV3 with `include_preprocessing=True` takes
RGB in 0..255 and normalises inside. Our images are 28 x 28 grey in [0, 1], so its `InputSpec`
says: resize to 32 x 32, repeat the grey channel to RGB, scale to 0..255. The same `InputSpec` is
used to train it and to distil from it.

(`load_teacher("keras.applications:MobileNetV3Small")` gets the ImageNet weights and their
preprocessing automatically, when the weights can be downloaded or are in `~/.keras/models`.)
"""

app_spec = InputSpec(size=(32, 32), channels=3, value_range=(0, 255))


def mobilenet():
    return keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None,
        include_preprocessing=True, minimalistic=True, alpha=0.75, dropout_rate=0.0,
    )


def train_briefly(model, to_input):
    """A short supervised fit: the stand-in for the weeks someone spent on your teacher."""
    for layer in model.layers:  # ImageNet's BatchNorm momentum (0.999) is too slow for a 20-second run
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    data = train_set.dataset(BATCH, shuffle=True, limit=train_limit).map(lambda x, y: (to_input(x), y))
    model.fit(data, epochs=teacher_epochs, verbose=2, shuffle=False)


trained = mobilenet()
train_briefly(trained, app_spec)
weights_file = output_dir / "my_mobilenet.weights.h5"
trained.save_weights(weights_file)  # what you would have

app_model = mobilenet()  # the same architecture, weights=None
app_model.load_weights(weights_file)
app_file = output_dir / "my_mobilenet.keras"
app_model.save(app_file)
app_teacher = teachers.load_teacher(app_file, input_spec=app_spec)

"""
## Kind 3: a keras-hub preset folder

keras-hub classifiers carry their preprocessing in an image converter; `save_to_preset(folder)`
writes the model, its weights and that converter, and `load_teacher("kerashub:<folder>")` turns
the converter into the `InputSpec` by itself. A preset name such as
`"kerashub:resnet_18_imagenet"` is downloaded from Kaggle or Hugging Face instead (network needed).

Here a tiny ResNet classifier is built from its config (no download), trained briefly (its
`fit` applies the preprocessor, so it takes 0..255 RGB) and saved to a preset folder.
"""

try:
    import keras_hub
except ImportError:
    keras_hub = None
    print("note: keras-hub is not installed (pip install keras-hub): skipping the kerashub: teacher")
hub_teacher = None
if keras_hub is not None:
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 128],
        stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type="basic_block",
        use_pre_activation=False, image_shape=(32, 32, 3),
    )
    converter = keras_hub.layers.ResNetImageConverter(image_size=(32, 32), scale=1 / 255.0)
    classifier = keras_hub.models.ResNetImageClassifier(
        backbone=backbone, num_classes=10,
        preprocessor=keras_hub.models.ResNetImageClassifierPreprocessor(image_converter=converter),
    )
    train_briefly(classifier, InputSpec(size=(32, 32), channels=3, value_range=(0, 255)))
    classifier.compile()  # drop the optimizer state before saving
    preset = output_dir / "my_kerashub_preset"
    classifier.save_to_preset(str(preset))
    hub_teacher = teachers.load_teacher(f"kerashub:{preset}")

"""
## Compare the teachers

`compare(model, data, student_spec=spec)` scores a model through its `InputSpec`. A wrong
convention is easy to spot here: the same MobileNet fed [0, 1] values instead of 0..255 is
near chance.
"""

candidates = {"keras_file": keras_file_teacher, "applications": app_teacher, "kerashub": hub_teacher}
for kind, loaded in candidates.items():
    if loaded is not None:
        model, spec = loaded
        accuracy = compare(model, eval_data, student_spec=spec)["student_top1"]
        print(f"teacher {kind:12s} accuracy {accuracy:.4f}   input spec {spec.to_dict()}")
wrong = InputSpec(size=(32, 32), channels=3)  # [0, 1] values: the default for a model without a spec
print(f"teacher applications with a wrong spec ([0, 1] values): "
      f"{compare(app_teacher[0], eval_data, student_spec=wrong)['student_top1']:.4f}")

"""
## Distil from your photo

The chosen teacher sees each batch through its own `InputSpec` (`teacher_input_spec`), the
student through none: it takes the 28 x 28 grey patches as they come.
"""

if candidates[args.teacher] is None:
    raise SystemExit(f"teacher kind {args.teacher!r} is not available here (see the note above).")
teacher, teacher_spec = candidates[args.teacher]
student = models.build("small_cnn", (28, 28, 1), num_classes=10)
patches = sources.single_image_dataset(photo, patch_size=28, channels=1, batch_size=BATCH)
train = augment.apply_policy(patches, augment.build_policy("cifar", image_size=28))
distiller = Distiller(teacher, student, temperature=8.0, teacher_input_spec=teacher_spec)
distiller.compile(
    optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(2e-3, args.epochs * args.steps)),
    metrics=["accuracy"],
)
distiller.fit(train, steps_per_epoch=args.steps, epochs=args.epochs, verbose=2)

"""
## Evaluate and save
"""

results = compare(student, eval_data, teacher=teacher, teacher_spec=teacher_spec)
print(f"teacher ({args.teacher}) accuracy: {results['teacher_top1']:.4f}   "
      f"student accuracy: {results['student_top1']:.4f}   agreement: {results['agreement']:.4f}   "
      f"({results['num_examples']} test images, fashion_mnist, photo {photo.name})")
student.save(output_dir / "student.keras")
print(f"saved {output_dir / 'student.keras'}")
