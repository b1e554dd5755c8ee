"""Whole jobs, each driven by one JSON-able config: distil a student, train a teacher.

The `aip` CLI, the KerasTuner search and the benchmarks all run these, so a
config written by one of them (e.g. `run.json`) reruns the same job.
"""

import os
import pathlib
import platform
import subprocess
import time
import typing

import keras
import tensorflow as tf

from aip_keras import atomic, augment, datasets, models, sources, teachers
from aip_keras.callbacks import TimeBudget
from aip_keras.config import REAL_TRAIN, VIDEO_SUFFIXES, make_optimizer
from aip_keras.distiller import Distiller
from aip_keras.evaluate import compare
from aip_keras.model_facts import audio_format
from aip_keras.models.registry import is_audio_model
from aip_keras.sources import audio, video

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
NO_AUDIO_AUGMENT = {"speed": (1.0, 1.0), "mix_p": 0.0, "shift_seconds": 0.0, "pad_p": 0.0, "fade_p": 0.0,
                    "gain_db": (0.0, 0.0), "noise_p": 0.0, "mask_p": 0.0}


def run_distillation(config, output_dir, verbose=1, callbacks=()):
    """Distils a student from one datum and evaluates it beside the teacher.

    One skeleton for every modality: the modality's setup (`_image_setup`,
    `_audio_setup`) loads the teacher and eval set, builds the student and the
    label-free training stream; this function compiles, fits, evaluates and
    writes the run.

    Writes into `output_dir`: `student.keras` (the student alone), `run.json`
    (config, metrics, timings), `history.csv`, TensorBoard `logs/`, and while
    training `backup/` so an interrupted run resumes from its last epoch.

    Args:
        config: a `DistillConfig`.
        output_dir: the run's folder (reuse it to resume an interrupted run).
        verbose: Keras progress-bar verbosity.
        callbacks: extra Keras callbacks for `fit`.

    Returns:
        The `run.json` contents as a dict.
    """

    output_dir = pathlib.Path(output_dir)
    if (output_dir / "run.json").exists():
        raise ValueError(
            f"{output_dir} already holds a finished run (run.json): choose a new --output_dir."
        )
    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    start = time.time()

    setup = _SETUPS[config.modality](config)
    num_classes = int(setup.teacher.output_shape[-1])
    if setup.eval_set.num_classes != num_classes:
        raise ValueError(
            f"teacher predicts {num_classes} classes but {config.eval} has "
            f"{setup.eval_set.num_classes}: evaluate on the teacher's own test set."
        )
    steps_per_epoch = max(1, (config.patches_per_epoch or setup.per_epoch) // config.batch_size)
    distiller = compiled_distiller(config, setup.teacher, setup.student, setup.teacher_spec,
                                   total_steps=config.epochs * steps_per_epoch)
    val_data = setup.eval_set.dataset(256, shuffle=True, seed=config.seed, limit=config.val_limit or None)
    if setup.val_map is not None:
        val_data = val_data.map(setup.val_map)
    budget = TimeBudget(config.time_budget_minutes * 60) if config.time_budget_minutes else None
    callbacks = [
        keras.callbacks.BackupAndRestore(str(output_dir / "backup")),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(output_dir / "logs"), write_graph=False),
    ] + ([budget] if budget else []) + list(callbacks)
    output_dir.mkdir(parents=True, exist_ok=True)
    train_start = time.time()
    distiller.fit(
        setup.train_data,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=val_data,
        callbacks=callbacks,
        verbose=verbose,
    )
    train_seconds = time.time() - train_start
    steps_done = int(distiller.optimizer.iterations.numpy())

    test_data = setup.eval_set.dataset(256, shuffle=True, seed=config.seed, limit=config.eval_limit or None)
    metrics = compare(setup.student, test_data, teacher=setup.teacher, teacher_spec=setup.teacher_spec,
                      windows=setup.windows)
    atomic.save_model(setup.student, output_dir / "student.keras")
    result = {
        "config": config.to_dict(),
        "modality": config.modality,
        "metrics": metrics,
        "teacher_accuracy": metrics["teacher_top1"],
        "student_accuracy": metrics["student_top1"],
        "agreement": metrics["agreement"],
        "samples_seen": steps_done * config.batch_size,
        "train_seconds": train_seconds,
        "wall_seconds": time.time() - start,
        "stopped_by_time_budget": bool(budget and budget.exhausted),
        **setup.result,
        "environment": environment(),
    }
    atomic.write_json(output_dir / "run.json", result)
    return result


def compiled_distiller(config, teacher, student, teacher_spec=None, total_steps=1):
    """The config's `Distiller`, compiled with its optimizer and an accuracy metric for labelled validation."""

    distiller = Distiller(
        teacher,
        student,
        temperature=config.temperature,
        scale_by_temperature_squared=config.tau_squared,
        hard_targets=config.hard_targets,
        teacher_outputs=config.teacher_outputs,
        include_student_losses=config.include_student_losses,
        teacher_input_spec=teacher_spec,
    )
    distiller.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate, config.weight_decay,
                                 config.schedule, total_steps=total_steps),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return distiller


def image_stream(config, patch_size, channels):
    """The label-free training batches of an image run: the source (patch chain, patch bank or the eval
    set's real training images), then the batch policy with CutMix. Endless."""

    if config.source == REAL_TRAIN:  # upper bound: real images, same policy, still no labels
        train_set = datasets.load(config.eval, split="train", image_size=(patch_size, patch_size))
        if tuple(train_set.image_shape) != (patch_size, patch_size, channels):
            raise ValueError(
                f"{config.eval} training images are {train_set.image_shape} but the student takes "
                f"{(patch_size, patch_size, channels)}: use a teacher with {config.eval}'s channels."
            )
        patches = train_set.dataset(config.batch_size, shuffle=True, seed=config.seed)
        patches = patches.map(lambda x, y: x).repeat()
    else:
        source = sources.SingleImageSource(
            config.source, patch_size=patch_size, channels=channels, **config.chain
        )
        if config.patch_bank:
            bank = source.bank(config.patch_bank, seed=config.seed)
            patches = sources.patch_bank_dataset(bank, config.batch_size, seed=config.seed)
        else:
            patches = source.dataset(config.batch_size, seed=config.seed)
    policy = augment.build_policy(
        config.augment, image_size=patch_size, seed=config.seed, **config.augment_overrides
    )
    return augment.apply_policy(patches, policy)


class _Setup(typing.NamedTuple):
    """What a modality hands `run_distillation`."""

    teacher: keras.Model
    teacher_spec: object  # an InputSpec, or None when the teacher takes the student's input as is
    student: keras.Model
    eval_set: object  # a datasets.LabelledSet
    train_data: object  # an endless tf.data stream of unlabelled batches
    per_epoch: int  # the modality's default samples per epoch
    result: dict  # extra run.json fields
    val_map: object = None  # applied to validation batches (x, y) (video: the centre window)
    windows: object = None  # video: temporal windows of the final multi-clip evaluation


def _image_setup(config):
    """Images: a teacher + InputSpec, the patch chain (or a patch bank, or real images), a batch policy."""

    eval_set = datasets.load(config.eval, split=config.eval_split)
    teacher, teacher_spec = teachers.load_teacher(
        config.teacher, arch=config.teacher_arch or None,
        num_classes=eval_set.num_classes, input_shape=eval_set.image_shape,
    )
    if len(teacher.inputs[0].shape) != 4:
        raise ValueError(f"teacher {teacher.name!r} takes video clips {tuple(teacher.inputs[0].shape)}: "
                         "use --modality=video.")
    height, width, channels = teacher_spec.input_shape_for(eval_set.image_shape)
    patch_size = config.patch_size or height
    student_shape = (patch_size, patch_size, channels)
    student = models.build(config.student, student_shape, int(teacher.output_shape[-1]), **config.student_kwargs)
    return _Setup(
        teacher, teacher_spec, student, eval_set, image_stream(config, patch_size, channels),
        per_epoch=sources.patches_per_epoch(patch_size),
        result={"student_input_shape": list(student_shape), "teacher_input_spec": teacher_spec.to_dict()},
    )


def _audio_setup(config):
    """Audio: one long clip -> crops -> a waveform student.

    The teacher (a `.keras` file, model folder or `zoo:` entry taking
    `(batch, samples)` waveforms, e.g. from `aip train-teacher --modality=audio`)
    fixes the sample rate (its `LogMel` layer) and the crop length (its input
    length); the source clip is resampled to that rate once. `augment` is
    `"audio"` (the `AudioChain` defaults, overridden by `chain`) or `"none"`
    (plain crops). The student is built with `spec_augment=False` unless
    `student_kwargs` says otherwise: the chain applies SpecAugment-style masks
    to the waveform, which teacher and student both see.
    """

    teacher, fmt = teachers.load_audio_model(config.teacher)
    teacher.trainable = False
    sample_rate = fmt["sample_rate"]
    if config.sample_rate and config.sample_rate != sample_rate:
        raise ValueError(
            f"teacher takes {sample_rate} Hz waveforms but sample_rate is {config.sample_rate}: "
            "drop --sample_rate (clips are resampled to the teacher's rate)."
        )
    samples = fmt["samples"] or int(round((config.crop_seconds or 1.0) * sample_rate))
    if config.crop_seconds and int(round(config.crop_seconds * sample_rate)) != samples:
        raise ValueError(
            f"teacher takes {samples}-sample ({samples / sample_rate:g} s) inputs but crop_seconds is "
            f"{config.crop_seconds:g}: drop --crop_seconds."
        )
    crop_seconds = samples / sample_rate
    eval_set = datasets.load_audio(config.eval, split=config.eval_split, sample_rate=sample_rate,
                                   clip_seconds=crop_seconds)
    if not is_audio_model(config.student):
        raise ValueError(
            f"student {config.student!r} is not an audio model: use one of {models.list_models('audio_*')}."
        )
    # No student-only SpecAugment unless asked for: masks the teacher does not see hurt
    # (the chain masks the waveform instead, for both); see aip_keras.sources.audio.
    student_kwargs = {"spec_augment": False, **config.student_kwargs}
    student = models.build(config.student, (samples,), int(teacher.output_shape[-1]),
                           sample_rate=sample_rate, **student_kwargs)
    audio_format(student)
    chain = dict(config.chain) if config.augment == "audio" else {**NO_AUDIO_AUGMENT, **config.chain}
    source = audio.SingleClipSource(config.source, sample_rate=sample_rate, crop_seconds=crop_seconds,
                                    clip_seed=config.seed, **chain)
    return _Setup(
        teacher, None, student, eval_set, source.dataset(config.batch_size, seed=config.seed),
        per_epoch=audio.CROPS_PER_EPOCH,
        result={"student_input_shape": [samples], "sample_rate": sample_rate, "crop_seconds": crop_seconds,
                "source": source.get_config(), "source_seconds": source.seconds},
    )


def _video_setup(config):
    """Video: fake clips of one photo (or windows of one real video) -> the video policy -> a clip student.

    The teacher takes clips `(frames, size, size, channels)`; source clips have
    `frames x frame_stride` frames, from which the policy samples `frames`
    every `frame_stride`-th (the paper: 8 -> 4). The eval set's videos have as
    many frames; validation uses the centre window, the final test averages the
    softmax over `eval_clips` windows (default: `frame_stride`, every offset).
    `source` is a photo name, an image path, `noise`, or a video file.
    """

    teacher, _ = teachers.load_teacher(config.teacher)
    shape = tuple(teacher.input_shape[1:])
    if len(shape) != 4 or None in shape or shape[1] != shape[2]:
        raise ValueError(f"teacher {teacher.name!r} takes inputs of shape {shape}: modality video needs a clip "
                         "classifier taking (frames, size, size, channels), e.g. from aip train-teacher --modality=video.")
    frames, size, _, channels = shape
    clip_frames = frames * config.frame_stride
    eval_set = datasets.load_video_set(config.eval, split=config.eval_split, frames=clip_frames, clip_size=size)
    student = models.build(config.student, shape, int(teacher.output_shape[-1]), **config.student_kwargs)
    chain = {"clip_size": size, "frames": clip_frames, "channels": channels, **config.chain}
    if pathlib.Path(config.source).suffix.lower() in VIDEO_SUFFIXES:
        source = video.SingleVideoSource(config.source, **chain)
    else:
        source = video.SingleImageClipSource(config.source, image_seed=config.seed, **chain)
    overrides = {"frames": frames, "stride": config.frame_stride, **config.augment_overrides}
    if config.augment == "none":
        overrides.update(scale=(1.0, 1.0), flip=False, cutmix_alpha=0.0)
    policy = augment.build_video_policy(seed=config.seed, **overrides)
    centre = augment.TemporalSample(frames, config.frame_stride)
    windows = video.temporal_windows(clip_frames, frames, config.frame_stride,
                                     config.eval_clips or config.frame_stride)
    return _Setup(
        teacher, None, student, eval_set, augment.apply_policy(source.dataset(config.batch_size, config.seed), policy),
        per_epoch=50_000, result={"student_input_shape": list(shape), "clip_frames": clip_frames,
                                  "eval_windows": windows.tolist(), "source": source.get_config()},
        val_map=lambda x, y: (centre(x, training=False), y), windows=windows,
    )


_SETUPS = {"image": _image_setup, "audio": _audio_setup, "video": _video_setup}


class _TeacherData(typing.NamedTuple):
    """What a modality hands `train_teacher`."""

    train_set: object  # a datasets.LabelledSet
    test_set: object
    input_shape: tuple  # the model's input
    augmentation: object  # labelled dataset -> augmented labelled dataset (used when it is not None)
    build_kwargs: dict  # extra models.build arguments
    result: dict  # extra run.json fields
    val_map: object = None  # applied to validation batches (video: the centre window)
    test_windows: object = None  # video: temporal windows of the final multi-clip evaluation


def _image_teacher_data(config):
    """Images: flip + pad-and-crop (`supervised_augmentation`) when `augment`."""
    train_set, test_set = (datasets.load(config.data, split=split) for split in ("train", "test"))
    policy = supervised_augmentation(train_set.image_shape[:2], config.seed)
    augmentation = (lambda data: data.map(policy, num_parallel_calls=-1)) if config.augment else None
    return _TeacherData(train_set, test_set, train_set.image_shape, augmentation, {}, {"modality": "image"})


def _audio_teacher_data(config):
    """Audio: examples resampled and fitted to the clip length; speed, shift, gain and noise when `augment`."""
    if not is_audio_model(config.arch):
        raise ValueError(f"arch {config.arch!r} is not an audio model: use one of {models.list_models('audio_*')} "
                         "with modality audio.")
    train_set, test_set = (datasets.load_audio(config.data, split=split, sample_rate=config.sample_rate,
                                               clip_seconds=config.clip_seconds) for split in ("train", "test"))
    augmentation = audio.supervised_augmentation(config.sample_rate, seed=config.seed)
    return _TeacherData(train_set, test_set, train_set.image_shape, augmentation if config.augment else None,
                        {"sample_rate": config.sample_rate}, {"modality": "audio", "sample_rate": config.sample_rate})


def _video_teacher_data(config):
    """Video: a random window of `frames` frames (plus a zoom-crop and flip when `augment`), the centre window
    for validation, every offset averaged at test."""
    clip_frames = config.frames * config.frame_stride
    train_set, test_set = (datasets.load_video_set(config.data, split=split, frames=clip_frames,
                                                   clip_size=config.clip_size) for split in ("train", "test"))
    zoom = augment.ClipScaleCrop((1.0, 1.25), flip=True, seed=config.seed)
    window = augment.TemporalSample(config.frames, config.frame_stride, seed=config.seed)
    centre = augment.TemporalSample(config.frames, config.frame_stride)
    # The model takes `frames` frames, so even without augmentation each clip gets a random window.
    view = (lambda x: window(zoom(x))) if config.augment else window
    return _TeacherData(
        train_set, test_set, (config.frames, *train_set.image_shape[1:]),
        lambda data: data.map(lambda x, y: (view(x), y)), {}, {"modality": "video", "clip_frames": clip_frames},
        val_map=lambda x, y: (centre(x, training=False), y),
        test_windows=video.temporal_windows(clip_frames, config.frames, config.frame_stride, clips=config.frame_stride),
    )


_TEACHER_DATA = {"image": _image_teacher_data, "audio": _audio_teacher_data, "video": _video_teacher_data}


def train_teacher(config, output, verbose=1):
    """Trains a classifier on a labelled set; the way to get teachers offline.

    One skeleton for every modality; the modality's data hook (`_image_teacher_data`,
    `_audio_teacher_data`, `_video_teacher_data`) loads the splits and says how to
    augment them. Saves the model to `output` (`.keras` file, or a folder in Keras'
    Hugging Face layout) with a `<output>.json` / `<folder>/run.json` of its metrics.
    Images get flip + pad-and-crop (`supervised_augmentation`); audio examples
    are resampled to `config.sample_rate`, fitted to `config.clip_seconds` and
    get speed, shift, gain and noise augmentation plus the model's SpecAugment.
    Videos (clips of `frames x frame_stride` frames) train on a random window
    of `frames` frames every `frame_stride`-th, with a per-clip zoom-crop and
    flip; validation takes the centre window, the test averages all offsets.
    """
    keras.utils.set_random_seed(config.seed)
    start = time.time()
    data = _TEACHER_DATA[config.modality](config)
    train_part, val_part = datasets.split_validation(data.train_set, config.val_fraction, seed=config.seed)
    val_data = val_part.dataset(256)
    if data.val_map is not None:
        val_data = val_data.map(data.val_map)
    model = models.build(config.arch, data.input_shape, data.train_set.num_classes, **data.build_kwargs,
                         **config.arch_kwargs)
    train_data = train_part.dataset(
        config.batch_size, shuffle=True, seed=config.seed, limit=config.train_limit or None
    )
    steps = int(train_data.cardinality().numpy()) * config.epochs
    if data.augmentation is not None:
        train_data = data.augmentation(train_data)
    model.compile(
        optimizer=make_optimizer("adamw", config.learning_rate, config.weight_decay, "cosine", steps),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(train_data, epochs=config.epochs, validation_data=val_data, verbose=verbose,
              shuffle=False)  # the dataset shuffles itself; Keras would warn that it ignores shuffle=True
    metrics = compare(model, data.test_set.dataset(256), windows=data.test_windows)
    output = pathlib.Path(output)
    atomic.save_model(inference_copy(model), output)
    result = {
        "config": config.to_dict(),
        **data.result,
        "test_accuracy": metrics["student_top1"],
        "test_top5": metrics["student_top5"],
        "num_test_examples": metrics["num_examples"],
        "class_names": list(data.train_set.class_names),
        "input_shape": list(data.input_shape),
        "wall_seconds": time.time() - start,
        "environment": environment(),
    }
    meta_path = output / "run.json" if output.suffix != ".keras" else output.with_suffix(".json")
    atomic.write_json(meta_path, result)
    return result


def supervised_augmentation(size, seed):
    """Flip + pad-4-and-crop for supervised teacher training (labels kept).

    The `cifar` preset without CutMix: CutMix without label mixing is only
    right when a teacher labels the mixed image.
    """

    policy = augment.build_policy("cifar", image_size=size, seed=seed, cutmix_alpha=0.0)

    def apply(x, y):
        return policy(x, training=True), y

    return apply


def inference_copy(model):
    """The model without its optimizer state (a third of the file for Adam).

    Rebuilt from its config rather than `keras.models.clone_model`, which (Keras 3.15) compiles the
    copy with a fresh optimizer whose zero moments would still be saved.
    """
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def environment():
    """Machine, versions and git commit, recorded with every result."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""

    return {
        "machine": f"{os.cpu_count()}-core {platform.machine()}, no GPU"
        if not tf.config.list_physical_devices("GPU") else f"{platform.machine()} with GPU",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "git_commit": commit,
    }
