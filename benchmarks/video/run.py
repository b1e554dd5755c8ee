"""Video reproduction (issue 7): a CIFAR-10-clips teacher, then students distilled from fake clips of ONE
photo, from ONE real video, and from noise.

    python benchmarks/video/run.py            # teacher (if zoo/ lacks it) + 3 sources x 2 seeds
    python benchmarks/video/report.py         # docs/results-video.md + docs/figures/video-*.png

The task: `cifar10_clips` (aip_keras.datasets.load_video_set), each CIFAR-10
image turned into an 8-frame clip by a smooth camera move; models take 4
frames (every 2nd); the test score averages the softmax over both temporal
offsets (2 windows per video). Teacher: `video_cnn` ((2+1)D, 0.16M
parameters) trained with `aip train-teacher --modality=video` on 20,000
training clips for 3 epochs. Students: `video_cnn`, the same budget for every
run (`--clips`, default 4,800 training clips of batch 32 in 3 epochs,
cosine schedule, tau 5, AdamW 2e-3, the `video` policy), scored on a seeded
random 1,000 of the 10,000 test videos (`--eval_limit`) to keep each run
minutes long. Sources: `astronaut` (fake clips of one photo),
`car-detection.mp4` (../shared/data/videos, 30 s, CC-BY 4.0; windows of 8
consecutive frames at 12.5 fps), `noise`.

Machine: the project's 2-core x86_64 CPU box, no GPU, shared with other jobs;
each JSON records wall and CPU seconds. Writes
`benchmarks/results/cifar10-clips-*.json` (results format of shared/design.md).
"""

import argparse
import json
import os
import pathlib
import shutil
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.cli_runs import RESULTS, aip, record, row  # noqa: E402

RUNS = REPO / "benchmarks" / "runs" / "video"
TEACHER = REPO / "zoo" / "cifar10_clips-teacher-video_cnn"
TEACHER_ARGS = ["--modality=video", "--data=cifar10_clips", "--arch=video_cnn", "--frames=4", "--frame_stride=2",
                "--clip_size=32", "--epochs=3", "--train_limit=20000", "--batch_size=64"]


def sources():
    from aip_keras.datasets import shared_data_dir

    video = (shared_data_dir() or REPO.parent / "shared" / "data") / "videos" / "car-detection.mp4"
    if not video.is_file():
        raise SystemExit(f"{video} is missing: set AIP_SHARED_DATA to the shared data folder.")
    return {"astronaut": "astronaut", "car-video": str(video), "noise": "noise"}


def common(cpu):
    """Fields every video row has: the budget in machine-minutes (CPU seconds over the cores)."""
    return {"task": "cifar10-clips", "modality": "video", "budget_cpu_minutes": round(cpu / 60 / (os.cpu_count() or 1), 1)}


def train_teacher():
    command = ["train-teacher", *TEACHER_ARGS, f"--output={TEACHER.relative_to(REPO)}"]
    if TEACHER.exists():
        print(f"{TEACHER.relative_to(REPO)} exists: reusing it")
        return
    RUNS.mkdir(parents=True, exist_ok=True)
    wall, cpu = aip(*command, log=RUNS / "teacher.log")
    run = json.loads((TEACHER / "run.json").read_text())
    record("cifar10-clips-teacher-video_cnn",
           row(run, command, wall, cpu, **common(cpu), teacher=str(TEACHER.relative_to(REPO)), arch="video_cnn",
               student_arch="video_cnn", seed=0))


def distill(name, source, seed, args):
    tag = f"{name}-seed{seed}"
    out = RUNS / tag
    if (RESULTS / f"cifar10-clips-distill-{tag}.json").exists():
        print(f"{tag} is done: skipping")
        return
    shutil.rmtree(out, ignore_errors=True)
    command = ["distill", "--modality=video", f"--teacher={TEACHER.relative_to(REPO)}", "--student=video_cnn",
               f"--source={source}", f"--seed={seed}", f"--batch_size={args.batch_size}", f"--epochs={args.epochs}",
               f"--patches_per_epoch={args.clips // args.epochs}", f"--eval_limit={args.eval_limit}",
               "--val_limit=1000", f"--output_dir={out.relative_to(REPO)}"]
    wall, cpu = aip(*command, log=RUNS / f"{tag}.log")
    run = json.loads((out / "run.json").read_text())
    record(f"cifar10-clips-distill-{tag}",
           row(run, command, wall, cpu, **common(cpu), teacher=str(TEACHER.relative_to(REPO)),
               student_arch="video_cnn", source=name, source_file=source, seed=seed, budget_clips=args.clips,
               eval_windows=run["eval_windows"], run_dir=str(out.relative_to(REPO))))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument("--only", nargs="*", choices=["astronaut", "car-video", "noise"])
    parser.add_argument("--clips", type=int, default=4_800, help="training clips per run (the budget)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--eval_limit", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    train_teacher()
    for seed in args.seeds:
        for name, source in sources().items():
            if not args.only or name in args.only:
                distill(name, source, seed, args)


if __name__ == "__main__":
    main()
