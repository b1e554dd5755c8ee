"""Does the bundled 60 s clip teach? The audio default against the long speech clip and noise, same budget.

    apt-get install -y asterisk-core-sounds-en-wav     # the long speech clip (benchmarks/audio/run.py)
    python benchmarks/audio/default_clip.py            # 3 sources x seed 0 x 8,192 crops, ~1 min each

The rows of aip_keras/data/audio/README.md ("Does it teach?"), about 1 h on the 2-core machine:

    C=~/.cache/aip_keras/clips
    python benchmarks/audio/make_default_clip.py --seconds 30 --out $C/speech_prompts-30s.wav
    python benchmarks/audio/make_default_clip.py --seconds 90 --out $C/speech_prompts-90s.wav
    X="speech_prompts_30s=$C/speech_prompts-30s.wav speech_prompts_90s=$C/speech_prompts-90s.wav"
    python benchmarks/audio/default_clip.py --only noise
    python benchmarks/audio/default_clip.py --seeds 0 1 2 --extra $X --only speech_prompts speech \
        speech_prompts_30s speech_prompts_90s
    python benchmarks/audio/default_clip.py --crops 20480 --seeds 0 1 --extra $X --only speech_prompts speech \
        speech_prompts_90s
    python benchmarks/audio/default_clip.py --crops 61440 --seeds 0 1 --extra $X --only speech_prompts speech \
        speech_prompts_90s                                                     # ~5-7 min each

Sources (all resampled to the teacher's 16 kHz when loaded):
- speech_prompts: `aip_keras/data/audio/speech_prompts.wav`, the clip bundled with the package (60 s, 27 Asterisk
  prompts without numbers, made by benchmarks/audio/make_default_clip.py; see the README beside it);
- speech: the long speech clip of benchmarks/audio/run.py (464 Asterisk prompts without digits/ and silence/, 23 min);
- noise: 60 s of white Gaussian noise (the control).
`--extra NAME=PATH` adds a clip (e.g. a 90 s one made with `make_default_clip.py --seconds 90 --out ...`).

Every run goes through `aip_keras.jobs.run_distillation` with the audio recipe of `DistillConfig(modality="audio")`
(teacher `zoo:fsdd-teacher-audio_cnn`, student `audio_cnn`, temperature 4, AdamW 4e-3 cosine, batch 32, the
`audio` chain), `--crops` training crops in 4 epochs, validation on 300 FSDD test clips, the final test on all
300. Each run writes `benchmarks/results/fsdd-audio-default-clip-<source>[-<crops>crops]-seed<N>.json` (the results
format of benchmarks/cli_runs.py; its `command` is the equivalent `aip distill` line). The rows' kind is
`default_clip`, not `distill`, so benchmarks/audio/report.py's tables (20,480-crop budget) leave them out.
Not run by the tests.
"""

import argparse
import os
import pathlib
import resource
import shutil
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.audio.run import speech_clip  # noqa: E402
from benchmarks.cli_runs import record, row  # noqa: E402

RUNS = REPO / "benchmarks" / "runs" / "audio"
BUNDLED = REPO / "aip_keras" / "data" / "audio" / "speech_prompts.wav"
CROPS = 8_192
EPOCHS = 4


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def shown_path(clip):
    """How a clip is written in the results: relative to the repository when inside it (the bundled clip)."""
    if clip == "noise":
        return clip
    path = pathlib.Path(clip).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def distill(name, clip, seed, args):
    import keras

    from aip_keras.config import DistillConfig
    from aip_keras.jobs import run_distillation

    tag = f"{name}-seed{seed}" if args.crops == CROPS else f"{name}-{args.crops}crops-seed{seed}"
    out = RUNS / f"default-clip-{tag}"
    if (out / "run.json").exists() and not args.rerun:
        print(f"{out.relative_to(REPO)} is done: skipping (--rerun to redo)")
        return
    shutil.rmtree(out, ignore_errors=True)
    shown = shown_path(clip)
    steps = args.crops // 32  # the audio recipe's batch size
    config = DistillConfig(modality="audio", source=str(clip), seed=seed, epochs=EPOCHS,
                           patches_per_epoch=steps // EPOCHS * 32, val_limit=300,
                           time_budget_minutes=args.cap_minutes)
    command = ["distill", "--modality=audio", f"--source={shown}", f"--seed={seed}", f"--epochs={EPOCHS}",
               f"--patches_per_epoch={config.patches_per_epoch}", "--val_limit=300",
               f"--time_budget_minutes={args.cap_minutes:g}", f"--output_dir={out.relative_to(REPO)}"]
    print("$ aip " + " ".join(command), flush=True)
    keras.backend.clear_session()
    cpu, start = cpu_seconds(), time.time()
    run = run_distillation(config, out, verbose=args.verbose)
    wall, cpu = time.time() - start, cpu_seconds() - cpu
    print(f"{name}: student {run['student_accuracy']:.3f}, teacher {run['teacher_accuracy']:.3f}, "
          f"{run['samples_seen']:,} crops, {wall:.0f} s wall, {cpu:.0f} CPU s", flush=True)
    record(f"fsdd-audio-default-clip-{tag}",
           row(run, command, wall, cpu, task="fsdd", modality="audio", kind="default_clip",
               teacher=config.teacher, student_arch=config.student, source=name, source_file=shown,
               source_seconds=round(run["source_seconds"], 1), seed=seed, budget_cpu_minutes=round(cpu / 60, 1),
               budget_crops=args.crops, temperature=config.temperature, sample_rate=run["sample_rate"],
               run_dir=str(out.relative_to(REPO)), api="aip_keras.jobs.run_distillation"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="these sources only (speech_prompts, speech, noise, extras)")
    parser.add_argument("--extra", nargs="*", default=[], help="more sources, NAME=PATH")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--crops", type=int, default=CROPS, help="training crops per run (the budget)")
    parser.add_argument("--cap_minutes", type=float, default=10.0, help="wall-clock safety cap per run")
    parser.add_argument("--rerun", action="store_true", help="redo finished runs")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not BUNDLED.exists():
        raise SystemExit(f"{BUNDLED} is missing: python benchmarks/audio/make_default_clip.py")
    clips = {"speech_prompts": BUNDLED, "speech": None, "noise": "noise"}
    clips.update(dict(extra.split("=", 1) for extra in args.extra))
    for seed in args.seeds:
        for name, clip in clips.items():
            if args.only and name not in args.only:
                continue
            if clip is None:  # built (and cached) only when asked for
                clip = speech_clip()
            distill(name, clip, seed, args)


if __name__ == "__main__":
    main()
