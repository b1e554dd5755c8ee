"""What each Table 1 teacher says about each source: the class histogram of its predictions on training batches.

    python benchmarks/teacher_view.py            # then python benchmarks/report.py

A student can only learn the classes its teacher names on the training
batches. For every task of Table 1 and every source (the real training
images, each photo, noise), this draws `--samples` training inputs exactly as
a seed-0 baseline run does (the 2020 patch chain, then the batch policy with
CutMix; for `real-train` the real images through the same policy), runs the
frozen teacher on them and records:

- `classes`: the fraction of inputs the teacher assigns to each class (argmax);
- `coverage`: the entropy of that histogram over log(num classes), 1 when
  every class is named equally often, 0 when one class takes everything;
- `confidence`: the teacher's mean top-1 softmax probability (temperature 1).

Writes `benchmarks/results/teacher-view-<task>.json` (kind `teacher_view`).
Takes about a minute of CPU.
"""

import math
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from absl import app, flags  # noqa: E402

from benchmarks import harness  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("tasks", list(harness.TASKS), "tasks of Table 1")
flags.DEFINE_integer("samples", 4096, "training inputs per source")


def view(task, samples, batch_size=128, teacher=""):
    """The `teacher_view` row of one task (`teacher`: another teacher than the task's)."""
    import keras
    import numpy as np

    from aip_keras import datasets, jobs, teachers

    spec = harness.RunSpec(task, "baseline", harness.SOURCES[0], 0, batch_size=batch_size, teacher=teacher)
    config = spec.config()
    eval_set = datasets.load(config.eval, split="test")
    model, model_spec = teachers.load_teacher(config.teacher, num_classes=eval_set.num_classes,
                                              input_shape=eval_set.image_shape)
    height, _, channels = model_spec.input_shape_for(eval_set.image_shape)
    num_classes = int(model.output_shape[-1])
    per_source = {}
    for source in harness.SOURCES:
        stream = jobs.image_stream(spec.config(source=source), height, channels)
        counts = np.zeros(num_classes)
        top1 = []
        for images in stream.take(math.ceil(samples / batch_size)):
            probs = keras.ops.convert_to_numpy(keras.ops.softmax(model(model_spec(images), training=False)))
            counts += np.bincount(probs.argmax(-1), minlength=num_classes)
            top1.append(probs.max(-1))
        share = counts / counts.sum()
        entropy = -sum(p * math.log(p) for p in share if p > 0)
        per_source[source] = {"classes": [round(float(p), 4) for p in share],
                              "coverage": round(entropy / math.log(num_classes), 4),
                              "confidence": round(float(np.concatenate(top1).mean()), 4),
                              "samples": int(counts.sum())}
        print(f"{task:14s} {source:18s} coverage {per_source[source]['coverage']:.2f} "
              f"confidence {per_source[source]['confidence']:.2f}", flush=True)
    return {"task": task, "modality": "image", "kind": "teacher_view",
            "teacher": teacher or harness.TASKS[task]["teacher"],
            "class_names": list(eval_set.class_names), "samples_per_source": samples, "seed": 0,
            "policy": f"{config.augment} (CutMix) after the 2020 chain", "machine": harness.machine(),
            "command": "python benchmarks/teacher_view.py", "sources": per_source}


def main(argv):
    del argv
    from aip_keras import atomic

    for task in FLAGS.tasks:
        if task not in harness.TASKS:
            raise app.UsageError(f"unknown task {task!r}: use one of {list(harness.TASKS)}.")
        path = harness.RESULTS_DIR / f"teacher-view-{task}.json"
        atomic.write_json(path, view(task, FLAGS.samples))
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    app.run(main)
