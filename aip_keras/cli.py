"""The `aip` command: one sub-command per job, absl flags.

    aip distill          distil a student from one image (no flags: the offline default)
    aip evaluate         teacher and student top-1/top-5 side by side, and agreement
    aip patches          a PNG grid of patches: what the student sees
    aip train-teacher    train a teacher on a labelled set
    aip tune             KerasTuner search of the augmentation policy; writes a config for aip distill
    aip zoo              the model zoo: aip zoo list | pull <name> | push <name> | card --folder=zoo/<name>

`aip <command> --help` lists a command's flags. Errors are one line on stderr
with exit status 1; nothing partial is left behind.
"""

import contextlib
import dataclasses
import json
import os
import pathlib
import sys
import time

from absl import app, flags


@contextlib.contextmanager
def _native_stderr_silenced():
    """Sends file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines (absl, oneDNN, CUDA probes) bypass
    Python logging and TF_CPP_MIN_LOG_LEVEL. Python errors raised inside still print: the fd is restored first."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


# Only the CLI starts TensorFlow quietly; `import aip_keras` (the library) leaves its logging alone.
with _native_stderr_silenced():
    import tensorflow as tf

    tf.config.list_physical_devices("GPU")

from aip_keras import atomic, augment, datasets, jobs, sources, teachers, tuning, zoo  # noqa: E402
from aip_keras.config import RECIPES, DistillConfig, TeacherConfig  # noqa: E402
from aip_keras.evaluate import compare, format_comparison  # noqa: E402
from aip_keras.input_spec import spec_for_model  # noqa: E402
from aip_keras.plots import save_image_grid  # noqa: E402
from aip_keras.sources.video import temporal_windows  # noqa: E402
from aip_keras.utils import first_line  # noqa: E402

FLAGS = flags.FLAGS
# How each modality names its labelled test examples and its training samples.
EXAMPLES = {"image": "images", "audio": "clips", "video": "videos"}
SAMPLES = {"image": "patches", "audio": "crops", "video": "clips"}


def _define_from_dataclass(cls, help_texts, skip=()):
    """One flag per config field, typed from its default."""
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        help_text = help_texts.get(field.name, field.name.replace("_", " "))
        if isinstance(default, bool):
            flags.DEFINE_boolean(field.name, default, help_text)
        elif isinstance(default, int):
            flags.DEFINE_integer(field.name, default, help_text)
        elif isinstance(default, float):
            flags.DEFINE_float(field.name, default, help_text)
        elif isinstance(default, dict):
            flags.DEFINE_string(field.name, json.dumps(default), help_text + " (JSON object)")
        else:
            flags.DEFINE_string(field.name, default, help_text)


def _values_from_flags(cls, only_present=False, skip=()):
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in skip or (only_present and not FLAGS[field.name].present):
            continue
        value = FLAGS[field.name].value
        if field.type in (dict, "dict"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as error:
                raise ValueError(f"--{field.name} is not a JSON object ({error}): e.g. '{{\"min_area\": 0.01}}'.")
        values[field.name] = value
    return values


DISTILL_HELP = {
    "teacher": "teacher: a .keras/.h5 file, a Keras model folder, keras.applications:<Name>, "
    "kerashub:<preset>, hf://<repo>, or zoo:<name> (default: the zoo's Fashion-MNIST teacher)",
    "teacher_arch": "registry architecture of a .weights.h5 teacher",
    "teacher_outputs": "teacher output kind: auto, logits or probabilities",
    "student": "student architecture from the model registry",
    "source": "the one datum: an image path, a bundled photo name, or 'noise'",
    "patch_size": "patch side S (0: the teacher's input size)",
    "patch_bank": "materialise this many patches once and reuse them (0: endless stream)",
    "chain": "patch-chain overrides, e.g. {\"min_area\": 0.01}",
    "augment": "batch augmentation preset: cifar, imagenet or none",
    "eval": "labelled test set: fashion_mnist, cifar10, tfds:<name>, or a folder",
    "eval_limit": "evaluate on a random subset of this size at the end (0: all)",
    "val_limit": "per-epoch validation on a random subset of this size",
    "patches_per_epoch": "patches per epoch (0: 50,000 below 224 px, ImageNet size above)",
    "time_budget_minutes": "stop training after this many minutes (0: no limit)",
    "temperature": "distillation temperature tau",
    "tau_squared": "multiply the loss by tau^2",
    "hard_targets": "match the teacher's argmax instead of its softened output",
    "include_student_losses": "add the student's regularisation losses",
    "optimizer": "adam, adamw or sgd",
    "schedule": "learning-rate schedule: cosine or constant",
    "mixed_precision": "train in mixed_bfloat16 (faster on recent CPUs)",
    "modality": "image, audio or video; the modality's recipe fills the flags you do not give (a flag you "
    "give always wins). video: the zoo's CIFAR-10-clips teacher, video_cnn, cifar10_clips, the 'video' policy, "
    "temperature 5 (source: a photo, 'noise' or a video file); audio: the zoo's FSDD teacher, audio_cnn, the "
    "bundled speech clip, fsdd, the 'audio' augmentation, temperature 4, learning_rate 4e-3, batch_size 32 "
    "(source: a WAV/FLAC/OGG path, 'speech_prompts' or 'noise')",
    "sample_rate": "audio: the teacher's sample rate (0: read from its LogMel layer)",
    "crop_seconds": "audio: crop length in seconds (0: the teacher's input length)",
    "frame_stride": "video: source clips have frames x frame_stride frames; the policy keeps every "
    "frame_stride-th (the paper: 8 -> 4)",
    "eval_clips": "video: temporal windows averaged per test video (0: frame_stride, every offset)",
}


def define_distill():
    _define_from_dataclass(DistillConfig, DISTILL_HELP)
    flags.DEFINE_string("config", None, "JSON config (or a run.json) to start from; flags override it")
    flags.DEFINE_string("output_dir", None, "folder for student.keras, run.json, logs (default: "
                        "runs/distill-<time>); rerun with the same folder to resume an interrupted run")
    flags.DEFINE_boolean("print_config", False, "print the resolved config (flags, --config and the modality's "
                         "recipe) as JSON and exit without running")


def _distill_config():
    """The DistillConfig of --config (if given) overridden by the flags present."""

    base = DistillConfig.from_file(FLAGS.config).to_dict() if FLAGS.config else {}
    # Only the flags given count as explicit: the modality recipe fills the rest.
    return DistillConfig.from_dict({**base, **_values_from_flags(DistillConfig, only_present=True)})


def main_distill(argv):

    config = _distill_config()
    if FLAGS.print_config:
        print(json.dumps(config.to_dict(), indent=2))
        return
    output_dir = FLAGS.output_dir or time.strftime("runs/distill-%Y%m%d-%H%M%S")
    print(f"aip distill: writing to {output_dir} (rerun with --output_dir={output_dir} to resume)")
    result = jobs.run_distillation(config, output_dir)
    m = result["metrics"]
    print(f"\nteacher accuracy: {m['teacher_top1']:.4f}   student accuracy: {m['student_top1']:.4f}   "
          f"agreement: {m['agreement']:.4f}   ({m['num_examples']} test {EXAMPLES[config.modality]}, {config.eval})")
    print(f"wall time: {result['wall_seconds'] / 60:.1f} min ({result['samples_seen']:,} {SAMPLES[config.modality]} "
          "seen)")
    print(f"student saved to {pathlib.Path(output_dir) / 'student.keras'}")


def define_evaluate():
    flags.DEFINE_string("student", None, "the student model (.keras file or model folder)")
    flags.DEFINE_string("teacher", None, "the teacher (same forms as aip distill --teacher); optional")
    flags.DEFINE_string("teacher_arch", "", "registry architecture of a .weights.h5 teacher")
    flags.DEFINE_string("eval", "fashion_mnist", "labelled test set (default per modality: fashion_mnist, fsdd, "
                        "cifar10_clips)")
    flags.DEFINE_string("eval_split", "test", "split of the labelled set")
    flags.DEFINE_integer("eval_limit", 0, "a random subset of this size (0: all)")
    flags.DEFINE_integer("seed", 0, "seed of the random subset")
    flags.DEFINE_string("output", None, "also write the metrics to this JSON file")
    flags.DEFINE_enum("modality", "image", ["image", "audio", "video"], "audio: waveform models, eval set via "
                      "load_audio at the student's sample rate and input length; video: clip models, eval set "
                      "(default cifar10_clips) scored on several temporal windows per video")
    flags.DEFINE_integer("frame_stride", 2, "video: the model's frames are every frame_stride-th frame of a video")
    flags.DEFINE_integer("eval_clips", 0, "video: temporal windows averaged per video (0: frame_stride)")
    flags.mark_flag_as_required("student")


def main_evaluate(argv):
    eval_name = FLAGS.eval if FLAGS["eval"].present else RECIPES[FLAGS.modality].get("eval", FLAGS.eval)
    student, teacher, eval_set, how = EVALUATION_SETUPS[FLAGS.modality](eval_name)
    data = eval_set.dataset(256, shuffle=True, seed=FLAGS.seed, limit=FLAGS.eval_limit or None)
    results = compare(student, data, teacher=teacher, **how)
    print(format_comparison(results))
    if FLAGS.output:
        atomic.write_json(FLAGS.output, results)


def _image_evaluation(eval_name):
    """Image models: each through its own InputSpec."""
    student, _ = teachers.load_teacher(FLAGS.student)
    teacher, teacher_spec = (teachers.load_teacher(FLAGS.teacher, arch=FLAGS.teacher_arch or None)
                             if FLAGS.teacher else (None, None))
    eval_set = datasets.load(eval_name, split=FLAGS.eval_split)
    return student, teacher, eval_set, {"student_spec": spec_for_model(student), "teacher_spec": teacher_spec}


def _audio_evaluation(eval_name):
    """Waveform models: the eval set at the student's sample rate and input length."""
    student, fmt = teachers.load_audio_model(FLAGS.student)
    teacher = teachers.load_audio_model(FLAGS.teacher)[0] if FLAGS.teacher else None
    seconds = (fmt["samples"] or fmt["sample_rate"]) / fmt["sample_rate"]
    eval_set = datasets.load_audio(eval_name, split=FLAGS.eval_split, sample_rate=fmt["sample_rate"],
                                   clip_seconds=seconds)
    return student, teacher, eval_set, {}


def _video_evaluation(eval_name):
    """Clip models: every video scored on several temporal windows."""
    student, _ = teachers.load_teacher(FLAGS.student)
    teacher = teachers.load_teacher(FLAGS.teacher)[0] if FLAGS.teacher else None
    shape = tuple(student.inputs[0].shape[1:])
    if len(shape) != 4:
        raise ValueError(f"student takes inputs of shape {shape}, not clips (frames, height, width, channels): "
                         "drop --modality=video.")
    frames, size = shape[0], shape[1]
    clip_frames = frames * FLAGS.frame_stride
    eval_set = datasets.load_video_set(eval_name, split=FLAGS.eval_split, frames=clip_frames, clip_size=size)
    windows = temporal_windows(clip_frames, frames, FLAGS.frame_stride, FLAGS.eval_clips or FLAGS.frame_stride)
    return student, teacher, eval_set, {"windows": windows}


EVALUATION_SETUPS = {"image": _image_evaluation, "audio": _audio_evaluation, "video": _video_evaluation}


def define_patches():
    flags.DEFINE_string("source", "astronaut", "image path, bundled photo name, or 'noise'")
    flags.DEFINE_integer("patch_size", 32, "patch side S")
    flags.DEFINE_integer("num", 64, "number of patches in the grid")
    flags.DEFINE_integer("channels", 3, "3 for colour, 1 for grey patches")
    flags.DEFINE_string("augment", "none", "also apply this batch preset (cifar, imagenet, none)")
    flags.DEFINE_string("chain", "{}", "patch-chain overrides (JSON object)")
    flags.DEFINE_integer("seed", 0, "random seed")
    flags.DEFINE_string("output", "patches.png", "PNG file to write")


def main_patches(argv):

    chain = json.loads(FLAGS.chain)
    source = sources.SingleImageSource(
        FLAGS.source, patch_size=FLAGS.patch_size, channels=FLAGS.channels, **chain
    )
    data = source.dataset(FLAGS.num, seed=FLAGS.seed)
    if FLAGS.augment != "none":
        data = augment.apply_policy(
            data, augment.build_policy(FLAGS.augment, image_size=FLAGS.patch_size, seed=FLAGS.seed)
        )
    batch = next(iter(data)).numpy()
    save_image_grid(batch, FLAGS.output, title=f"{FLAGS.num} patches of {FLAGS.source} (S={FLAGS.patch_size})")
    print(f"wrote {FLAGS.output}")


def define_train_teacher():

    _define_from_dataclass(TeacherConfig, {
        "data": "labelled training set: fashion_mnist, cifar10, tfds:<name>, or a folder",
        "arch": "architecture from the model registry",
        "val_fraction": "fraction of the training split held out for validation",
        "train_limit": "train on a random subset of this size (0: all)",
        "augment": "flip and pad-4 translation during training (audio: speed, shift, gain, noise)",
        "modality": "image, audio (default data fsdd and arch audio_cnn; data: fsdd, tfds:<name> with an audio "
        "feature, or a folder of audio files) or video (default data cifar10_clips and arch video_cnn); flags "
        "you give win over these defaults",
        "sample_rate": "audio: resample the data to this rate (Hz)",
        "clip_seconds": "audio: crop or pad every example to this length",
        "frames": "video: frames the model takes",
        "frame_stride": "video: the data's clips have frames x frame_stride frames; training takes a random "
        "window every frame_stride-th, the test averages every offset",
        "clip_size": "video: frame side in pixels",
    })
    flags.DEFINE_string("output", None, "where to save: a .keras file or a folder (Keras' Hub layout)")
    flags.mark_flag_as_required("output")


def main_train_teacher(argv):

    config = TeacherConfig(**_values_from_flags(TeacherConfig, only_present=True))
    result = jobs.train_teacher(config, FLAGS.output)
    print(f"\nteacher test accuracy: {result['test_accuracy']:.4f} "
          f"({result['num_test_examples']} test {EXAMPLES[config.modality]}); saved to {FLAGS.output}")


def define_tune():

    _define_from_dataclass(DistillConfig, {**DISTILL_HELP, "val_limit": "validation examples scored per trial",
                                           "epochs": "epochs of the full budget written to best_config.json",
                                           "patches_per_epoch": "patches per epoch of the full budget"})
    flags.DEFINE_string("config", None, "JSON config (or a run.json) to start from; flags override it")
    flags.DEFINE_enum("algorithm", "random", tuning.ALGORITHMS, "KerasTuner search algorithm")
    flags.DEFINE_integer("max_trials", 8, "trials (random and bayesian)")
    flags.DEFINE_list("sources", [], "photos the 'source' hyperparameter chooses among (default: --source only)")
    flags.DEFINE_list("tune", list(tuning.SEARCH_SPACE), "hyperparameters to search; the others keep the config's")
    flags.DEFINE_integer("trial_epochs", 2, "proxy budget: epochs per trial")
    flags.DEFINE_integer("trial_patches_per_epoch", 4096, "proxy budget: patches per trial epoch")
    flags.DEFINE_float("val_fraction", 0.1, "share of the eval set's training split held out as the objective")
    flags.DEFINE_integer("tuner_seed", 0, "seed of the search algorithm")
    flags.DEFINE_boolean("overwrite", False, "start the search over instead of resuming output_dir/tuner")
    flags.DEFINE_string("output_dir", None, "folder for best_config.json, trials.csv, tune.json, plots "
                        "(default: runs/tune-<time>)")


def main_tune(argv):

    config = _distill_config()
    output_dir = FLAGS.output_dir or time.strftime("runs/tune-%Y%m%d-%H%M%S")
    print(f"aip tune: {FLAGS.algorithm} search, writing to {output_dir}")
    result = tuning.search(
        config, output_dir, algorithm=FLAGS.algorithm, max_trials=FLAGS.max_trials,
        sources=FLAGS.sources or None, tune=FLAGS.tune, trial_epochs=FLAGS.trial_epochs,
        trial_patches_per_epoch=FLAGS.trial_patches_per_epoch, val_fraction=FLAGS.val_fraction,
        val_limit=config.val_limit, seed=FLAGS.tuner_seed, overwrite=FLAGS.overwrite,
    )
    print(f"\n{result['num_completed']} of {result['num_trials']} trials completed; best val_accuracy "
          f"{result['best_score']:.4f} (trial {result['best_trial']}): {result['best_hyperparameters']}")
    print(f"best policy: aip distill --config={pathlib.Path(output_dir) / 'best_config.json'}")


ZOO_ACTIONS = ("list", "pull", "push", "card")


def define_zoo():
    flags.DEFINE_enum("action", None, ZOO_ACTIONS, "what to do: list, pull, push or card "
                      "(also positional: aip zoo pull <name>)")
    flags.DEFINE_string("name", None, "pull/push: a zoo entry name or Hub repo id (also positional)")
    flags.DEFINE_string("revision", None, "pull: the Hub revision (default: the one pinned in zoo/index.json)")
    flags.DEFINE_string("output", None, "pull: also copy the files here; push --dry_run: the folder to write "
                        "(default runs/zoo-push/<name>)")
    flags.DEFINE_boolean("dry_run", False, "push: upload nothing, write the exact folder that would be uploaded")
    flags.DEFINE_boolean("private", False, "push: create the Hub repo private")
    flags.DEFINE_string("folder", None, "card/push: the entry folder, zoo/<recipe name>")
    flags.DEFINE_string("kind", None, "card: teacher or student (default: from run.json)")
    flags.DEFINE_string("repo_id", None, "card/push: the Hub repo (default aip-keras/<name>)")
    flags.DEFINE_string("base_model", None, "card: the teacher's Hub repo (default: from the run's teacher)")
    flags.DEFINE_string("log", None, "card: the training run's stdout log (or history.csv) to keep")
    flags.DEFINE_string("from_run", None, "card: create the entry from this aip distill output folder")
    flags.DEFINE_string("license", "apache-2.0", "card: the license id")
    flags.DEFINE_string("source_note", None, "card: where a student's source file came from (licence, how it was "
                        "made); kept in run.json and shown on the card")


def main_zoo(argv):

    action = FLAGS.action
    if action is None:
        raise ValueError(f"no action: use aip zoo {{{','.join(ZOO_ACTIONS)}}} (e.g. aip zoo list).")
    if action == "list":
        entries = zoo.list()
        if not entries:
            print("the zoo is empty (zoo/index.json)")
        for e in entries:
            acc = f"{e['accuracy']:.4f}" if isinstance(e.get("accuracy"), (int, float)) else "?"
            rev = e["revision"][:12] if e.get("revision") else "unpublished"
            print(f"{e['name']:42s} {e.get('kind', ''):8s} {e.get('dataset') or '':14s} acc {acc}  "
                  f"{e['repo_id']}@{rev}{'  (local)' if e['local'] else ''}")
    elif action == "pull":
        if not FLAGS.name:
            raise ValueError("aip zoo pull needs a name: aip zoo pull <name or owner/repo>.")
        folder = zoo.pull(FLAGS.name, revision=FLAGS.revision, output=FLAGS.output)
        print(f"pulled {FLAGS.name} to {folder}")
    elif action == "push":
        target = FLAGS.name or FLAGS.folder
        if not target:
            raise ValueError("aip zoo push needs a name or --folder: aip zoo push <name> [--dry_run].")
        result = zoo.publish(target, repo_id=FLAGS.repo_id, dry_run=FLAGS.dry_run, output=FLAGS.output,
                             private=FLAGS.private or None)
        if result["dry_run"]:
            print(f"dry run: {len(result['files'])} files that would go to {result['repo_id']} written to "
                  f"{result['folder']}:")
            print("\n".join(f"  {f}" for f in result["files"]))
        else:
            print(f"pushed {result['name']} to https://huggingface.co/{result['repo_id']} "
                  f"at revision {result['revision']}")
    else:
        if not FLAGS.folder:
            raise ValueError("aip zoo card needs --folder=zoo/<recipe name>.")
        entry = zoo.write_entry(FLAGS.folder, kind=FLAGS.kind, repo_id=FLAGS.repo_id, base_model=FLAGS.base_model,
                                log=FLAGS.log, from_run=FLAGS.from_run, license=FLAGS.license,
                                source_note=FLAGS.source_note)
        print(f"wrote the card of {FLAGS.folder} ({entry['kind']}, accuracy {entry['accuracy']:.4f}) "
              f"and its zoo/index.json entry ({entry['repo_id']})")


def _zoo_positionals(args):
    """`aip zoo pull <name>` -> `--action=pull --name=<name>` (absl takes flags only)."""
    out, names, booleans = [], ["action", "name"], ("dry_run", "private", "nodry_run", "noprivate")
    for arg in args:
        flag_value = out and out[-1].startswith("-") and "=" not in out[-1] and out[-1].lstrip("-") not in booleans
        if names and not arg.startswith("-") and not flag_value:  # not the value of `--flag value`
            out.append(f"--{names.pop(0)}={arg}")
        else:
            out.append(arg)
    return out


COMMANDS = {
    "distill": (define_distill, main_distill, "distil a student from one image"),
    "evaluate": (define_evaluate, main_evaluate, "teacher vs student on a labelled test set"),
    "patches": (define_patches, main_patches, "PNG grid of sampled patches"),
    "train-teacher": (define_train_teacher, main_train_teacher, "train a teacher on labelled data"),
    "tune": (define_tune, main_tune, "search the augmentation policy with KerasTuner"),
    "zoo": (define_zoo, main_zoo, "the model zoo: list, pull, push, card"),
}


def _usage():
    lines = ["usage: aip <command> [--flags]   (aip <command> --help for its flags)", ""]
    lines += [f"  {name:15s}{text}" for name, (_, _, text) in COMMANDS.items()]
    return "\n".join(lines)


def _guarded(main, command):
    def wrapped(argv):
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments {argv[1:]}: every option is a --flag.")
        try:
            main(argv)
        except (ValueError, FileNotFoundError, FloatingPointError, OSError, RuntimeError) as error:
            message = first_line(error, limit=1000, with_type=False) or type(error).__name__
            print(f"aip {command}: error: {message}", file=sys.stderr)
            sys.exit(1)

    return wrapped


def run(argv=None):
    """Entry point of the `aip` console script."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(_usage())
        sys.exit(0 if len(argv) >= 2 else 2)
    command = argv[1]
    if command not in COMMANDS:
        print(f"aip: error: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        sys.exit(2)
    define, main, summary = COMMANDS[command]
    if command == "zoo":
        argv = argv[:2] + _zoo_positionals(argv[2:])
    before = set(FLAGS)
    define()
    sys.argv = [f"aip {command}"] + argv[2:]
    # absl's --help lists the key flags of the module named sys.argv[0], which is the console script (or
    # __main__), never this module: register this command's flags there, and the command's usage line.
    for name in sorted(set(FLAGS) - before):
        FLAGS.register_key_flag_for_module(sys.argv[0], FLAGS[name])
    sys.modules["__main__"].__doc__ = f"aip {command}: {summary}.\n\nusage: aip {command} [--flags]"
    if {"-h", "--help", "--helpshort"} & set(sys.argv[1:]):  # absl's own --help exits with status 1
        app.usage(shorthelp=True, writeto_stdout=True, exitcode=0)
    app.run(_guarded(main, command), argv=sys.argv)


if __name__ == "__main__":
    run()
