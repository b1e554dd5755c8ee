"""Job configs (`DistillConfig`, `TeacherConfig`), the modality recipes, and `make_optimizer`.

A config holds everything that defines one run; `run.json` stores it so that
`aip distill --config=run.json` reruns the same job. The dataclass defaults are
the image recipe. Each other modality's recipe is plain data (`RECIPES`,
`TEACHER_RECIPES`, like keras-hub's presets) applied only to the fields the
user did not give: a config remembers which fields were passed to it, so an
explicit value always wins, even one equal to the image default.

Example:

>>> DistillConfig(modality="audio").temperature          # the audio recipe
4.0
>>> DistillConfig(modality="audio", temperature=8.0).temperature   # what the user said
8.0
"""

import dataclasses
import json
import math
import pathlib

import keras

from aip_keras.augment import PRESETS

MODALITIES = ("image", "audio", "video")
REAL_TRAIN = "real-train"  # source: the eval set's real training images (the upper bound)
DEFAULT_TEACHER = "zoo:fashion_mnist-teacher-small_cnn"
DEFAULT_SOURCE = "astronaut"
# The audio default: a speech clip bundled with the package (aip_keras/data/audio, see its README).
DEFAULT_AUDIO_SOURCE = "speech_prompts"
AUGMENT_PRESETS = {"image": tuple(PRESETS), "audio": ("audio", "none"), "video": ("video", "none")}
VIDEO_SUFFIXES = (".mp4", ".webm", ".avi", ".mov", ".mkv", ".m4v", ".gif")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "constant")
TEACHER_OUTPUTS = ("auto", "logits", "probabilities")

# What `modality=<m>` changes in a DistillConfig, for the fields the user left unset.
RECIPES = {
    "image": {},
    "audio": {
        "teacher": "zoo:fsdd-teacher-audio_cnn",
        "student": "audio_cnn",
        "source": DEFAULT_AUDIO_SOURCE,
        "eval": "fsdd",
        "augment": "audio",
        # The recipe of benchmarks/audio/run.py (its docstring has the short ablations behind it).
        "temperature": 4.0,
        "learning_rate": 4e-3,
        "batch_size": 32,
    },
    "video": {
        "teacher": "zoo:cifar10_clips-teacher-video_cnn",
        "student": "video_cnn",
        "eval": "cifar10_clips",
        "augment": "video",
        "temperature": 5.0,  # the paper's video recipe
    },
}
# What `modality=<m>` changes in a TeacherConfig, for the fields the user left unset.
TEACHER_RECIPES = {
    "image": {},
    "audio": {"data": "fsdd", "arch": "audio_cnn"},
    "video": {"data": "cifar10_clips", "arch": "video_cnn"},
}


def _track_given(cls):
    """Makes a dataclass remember which fields its caller passed (`config.given`)."""
    init = cls.__init__
    names = [f.name for f in dataclasses.fields(cls)]

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_given", frozenset(names[: len(args)]) | frozenset(kwargs))
        init(self, *args, **kwargs)

    __init__.__doc__ = init.__doc__
    cls.__init__ = __init__
    cls.given = property(lambda self: self._given, doc="The field names the caller passed explicitly.")
    return cls


class _Config:
    """What both configs share: the recipe step, checks, and JSON round trips."""

    KIND = "config"
    _HINTS = {"temperature": ": use e.g. 8 (images) or 5 (video)", "learning_rate": ": use e.g. 2e-3"}

    def _apply_recipe(self, recipes):
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality {self.modality!r}: use one of {list(MODALITIES)}.")
        for name, value in recipes[self.modality].items():
            if name not in self._given:
                setattr(self, name, value)
        for field in dataclasses.fields(self):
            value, kind = getattr(self, field.name), getattr(field.type, "__name__", field.type)
            expected = {"int": int, "float": (int, float), "str": str, "bool": bool, "dict": dict}[kind]
            if not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool)):
                raise ValueError(f"{field.name} must be of type {kind}, got {value!r}.")

    def _check_at_least(self, minimum, *names, strictly=False):
        """Each named field must be a finite number >= minimum (> minimum when `strictly`)."""
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, got {value!r}.")
            if not math.isfinite(value) or value < minimum or (strictly and value == minimum):
                bound = f"> {minimum}" if strictly else f">= {minimum}"
                raise ValueError(f"{name} must be a finite number {bound}, got {value}{self._HINTS.get(name, '')}.")

    @classmethod
    def from_dict(cls, values):
        """A config from a dict; unknown keys are a one-line error. Every key given counts as explicit."""
        if not isinstance(values, dict):
            raise ValueError(f"a {cls.KIND} config must be a JSON object, got {type(values).__name__}: "
                             "pass {\"key\": value, ...}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown {cls.KIND} config keys {unknown}: valid keys are {sorted(known)}.")
        return cls(**values)

    @classmethod
    def from_file(cls, path):
        """Reads a config JSON (a bare config, or a run.json with a "config" key)."""
        path = pathlib.Path(path)
        if path.is_dir():
            raise ValueError(f"config {path} is a folder: pass the path of a JSON config file (e.g. {path}/run.json).")
        if not path.is_file():
            raise ValueError(f"config file {path} does not exist: pass the path of a JSON config.")
        try:
            values = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"config file {path} is not valid JSON ({error}): fix or regenerate it.") from None
        if isinstance(values, dict) and isinstance(values.get("config"), dict):
            values = values["config"]
        return cls.from_dict(values)

    def to_dict(self):
        return dataclasses.asdict(self)


@_track_given
@dataclasses.dataclass
class DistillConfig(_Config):
    """Everything that defines one distillation run (see `aip distill --help`).

    Defaults are the image recipe; `modality="audio"` / `"video"` applies
    `RECIPES[modality]` to the fields not passed. Values are checked here,
    before any model or data is loaded (one-line `ValueError`).

    Example:

    >>> config = DistillConfig(source="china", epochs=2)
    >>> config.teacher, config.epochs
    ('zoo:fashion_mnist-teacher-small_cnn', 2)
    """

    KIND = "distill"

    teacher: str = DEFAULT_TEACHER
    teacher_arch: str = ""
    teacher_outputs: str = "auto"
    student: str = "small_cnn"
    student_kwargs: dict = dataclasses.field(default_factory=dict)
    source: str = DEFAULT_SOURCE
    patch_size: int = 0
    patch_bank: int = 0
    chain: dict = dataclasses.field(default_factory=dict)
    augment: str = "cifar"
    augment_overrides: dict = dataclasses.field(default_factory=dict)
    eval: str = "fashion_mnist"
    eval_split: str = "test"
    eval_limit: int = 0
    val_limit: int = 2000
    batch_size: int = 128
    epochs: int = 6
    patches_per_epoch: int = 20000
    time_budget_minutes: float = 0.0
    temperature: float = 8.0
    tau_squared: bool = False
    hard_targets: bool = False
    include_student_losses: bool = True
    optimizer: str = "adamw"
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    mixed_precision: bool = False
    seed: int = 0
    modality: str = "image"
    sample_rate: int = 0
    crop_seconds: float = 0.0
    frame_stride: int = 2
    eval_clips: int = 0

    def __post_init__(self):
        self._apply_recipe(RECIPES)
        self._check_at_least(1, "batch_size", "epochs", "frame_stride")
        self._check_at_least(0, "patch_size", "patch_bank", "eval_limit", "val_limit", "patches_per_epoch",
                             "time_budget_minutes", "weight_decay", "sample_rate", "crop_seconds", "eval_clips")
        self._check_at_least(0, "temperature", "learning_rate", strictly=True)
        if self.teacher_outputs not in TEACHER_OUTPUTS:
            raise ValueError(f"unknown teacher_outputs {self.teacher_outputs!r}: use one of {list(TEACHER_OUTPUTS)}.")
        presets = AUGMENT_PRESETS[self.modality]
        if self.augment not in presets:
            raise ValueError(f"augment preset {self.augment!r} is not for modality {self.modality}: "
                             f"use one of {list(presets)}.")
        if self.modality == "image" and set(self.augment_overrides) - set(PRESETS[self.augment]):
            raise ValueError(
                f"unknown augment_overrides {sorted(set(self.augment_overrides) - set(PRESETS[self.augment]))} "
                f"for preset {self.augment!r}: valid keys are {sorted(PRESETS[self.augment])}."
            )
        if self.source == REAL_TRAIN and (self.patch_bank or self.chain):
            raise ValueError(f"source {REAL_TRAIN!r} streams the eval set's training images: drop patch_bank and chain.")
        if self.modality == "audio":
            if self.patch_size or self.patch_bank:
                raise ValueError("patch_size and patch_bank are image options: use crop_seconds with modality audio.")
            if self.sample_rate and self.sample_rate < 1000:
                raise ValueError(f"sample_rate must be >= 1000 Hz (or 0: the teacher's), got {self.sample_rate}.")
        if self.modality == "video" and self.patch_bank:
            raise ValueError("patch_bank is an image option: video clips are always streamed.")
        make_optimizer(self.optimizer, self.learning_rate, self.weight_decay, self.schedule, 1)


@_track_given
@dataclasses.dataclass
class TeacherConfig(_Config):
    """One supervised teacher training run (see `aip train-teacher --help`).

    Defaults are the image recipe; `modality="audio"` / `"video"` applies
    `TEACHER_RECIPES[modality]` (data set and architecture) to the fields not passed.

    Example:

    >>> TeacherConfig(modality="audio").arch
    'audio_cnn'
    """

    KIND = "train-teacher"

    data: str = "fashion_mnist"
    arch: str = "small_cnn"
    arch_kwargs: dict = dataclasses.field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    augment: bool = True
    val_fraction: float = 0.05
    train_limit: int = 0
    seed: int = 0
    modality: str = "image"
    sample_rate: int = 16000
    clip_seconds: float = 1.0
    frames: int = 4
    frame_stride: int = 2
    clip_size: int = 32

    def __post_init__(self):
        self._apply_recipe(TEACHER_RECIPES)
        self._check_at_least(1, "epochs", "batch_size", "frames", "frame_stride", "clip_size")
        self._check_at_least(0, "weight_decay", "train_limit", "val_fraction", "clip_seconds")
        self._check_at_least(0, "learning_rate", strictly=True)
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be between 0 and 1, got {self.val_fraction}: use e.g. 0.05.")
        if self.modality == "audio" and (self.sample_rate < 1000 or not self.clip_seconds > 0):
            raise ValueError(f"audio needs sample_rate >= 1000 Hz and clip_seconds > 0, got {self.sample_rate} "
                             f"and {self.clip_seconds}.")


def make_optimizer(name, learning_rate, weight_decay, schedule, total_steps):
    """Adam / AdamW / SGD with a constant or cosine learning rate.

    Example:

    >>> type(make_optimizer("adamw", 1e-3, 5e-4, "cosine", total_steps=100)).__name__
    'AdamW'
    """
    if schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, total_steps))
    elif schedule != "constant":
        raise ValueError(f"unknown schedule {schedule!r}: use one of {list(SCHEDULES)}.")
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    raise ValueError(f"unknown optimizer {name!r}: use one of {list(OPTIMIZERS)}.")
