"""What the benchmarks that drive the `aip` CLI (audio/run.py, video/run.py) share: run a command, turn the
`run.json` it wrote into a results row (the format of shared/design.md), write the row.

The image benchmarks (harness.py) call `aip_keras.jobs` in-process instead, because their CPU-minute budget
needs a callback inside `fit`.
"""

import os
import pathlib
import resource
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def aip(*args, log=None):
    """Runs `python -m aip_keras.cli ...`; returns (wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    command = [sys.executable, "-m", "aip_keras.cli", *args]
    print("$ aip " + " ".join(args), flush=True)
    with open(log, "w") if log else open(os.devnull, "w") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    if result.returncode:
        tail = pathlib.Path(log).read_text()[-2000:] if log else ""
        raise SystemExit(f"aip {args[0]} failed ({result.returncode}):\n{tail}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.time() - start, cpu


def row(run, command, wall, cpu, *, task, modality, **fields):
    """A results row from a teacher's or a student's `run.json`; `fields` add to or override it.

    A teacher row repeats its test accuracy as `student_accuracy` (agreement 1)
    so the report can put it in the same table as the students.
    """
    env = run["environment"]
    out = {"task": task, "modality": modality, "machine": env["machine"], "git_commit": env["git_commit"],
           "command": "aip " + " ".join(command), "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1)}
    if "test_accuracy" in run:
        out.update(kind="teacher", source="real-train", samples_seen=None, test_accuracy=run["test_accuracy"],
                   teacher_accuracy=run["test_accuracy"], student_accuracy=run["test_accuracy"], agreement=1.0,
                   num_test_examples=run["num_test_examples"])
    else:
        out.update(kind="distill", samples_seen=run["samples_seen"], train_seconds=round(run["train_seconds"], 1),
                   stopped_by_time_budget=run["stopped_by_time_budget"], teacher_accuracy=run["teacher_accuracy"],
                   student_accuracy=run["student_accuracy"], agreement=run["agreement"],
                   num_test_examples=run["metrics"]["num_examples"])
    out.update(fields)
    return out


def record(name, result_row):
    """Writes `benchmarks/results/<name>.json` atomically."""
    from aip_keras.atomic import write_json

    write_json(RESULTS / f"{name}.json", result_row)
    print(f"wrote benchmarks/results/{name}.json", flush=True)
