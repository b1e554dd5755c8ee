"""The model zoo: teachers and students of this project, on the Hugging Face Hub.

Each entry is a folder `zoo/<name>/` named after its recipe (e.g.
`fashion_mnist-teacher-small_cnn`, `cifar10-smallcnn-from-hubble`) holding exactly
what goes to its Hub repository:

- `config.json`, `model.weights.h5`, `metadata.json`: the model in Keras 3's format,
  as `model.save(folder, zipped=False)` and `model.save("hf://...")` write it;
- `README.md`: the model card (front matter for the Hub: library_name, license,
  tags, datasets, base_model, model-index with the measured accuracy);
- `.eval_results/<dataset>.yaml`: the same accuracy in the Hub's eval-results format;
- `run.json` (the run's config and metrics) and `training_log.txt`.

`zoo/index.json` lists the entries with their Hub repo and pinned revision.

`load(name_or_repo_id)` looks in this order (first hit wins):

1. the entry's folder in this repository (`zoo/<name>`, or `$AIP_ZOO_DIR/<name>`),
   unless another `revision` than the index's is asked for;
2. the Hugging Face cache (`$HF_HUB_CACHE`, default `$HF_HOME/hub`), at the pinned
   revision (or `main` for an entry not published yet);
3. the Hub itself (skipped when `HF_HUB_OFFLINE=1` or the Hub is unreachable).

Every model loads with Keras' `safe_mode=True`; custom objects that are not
registered Keras / aip_keras classes are refused, and the model files must match
the SHA-256 sums recorded in the index. Pulls and pushes go through a temporary
folder and an atomic move, so nothing half-written is ever left behind, and
tokens are never printed.

Example:

>>> from aip_keras import zoo
>>> names = [entry["name"] for entry in zoo.list()]
>>> all(isinstance(n, str) for n in names)
True
"""

import builtins
import hashlib
import json
import os
import pathlib
import re
import shlex
import shutil
import tempfile

from aip_keras import atomic

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
DEFAULT_OWNER = "aip-keras"
DEFAULT_LICENSE = "apache-2.0"
INDEX_NAME = "index.json"
MODEL_FILES = ("config.json", "metadata.json", "model.weights.h5")
CARD_FILES = ("README.md", "run.json", "training_log.txt", "history.csv")
LOG_NAME = "training_log.txt"
# Hub dataset ids and pretty names of the labelled sets aip_keras knows.
HF_DATASETS = {
    "fashion_mnist": ("zalando-datasets/fashion_mnist", "Fashion-MNIST"),
    "mnist": ("ylecun/mnist", "MNIST"),
    "cifar10": ("uoft-cs/cifar10", "CIFAR-10"),
    "cifar100": ("uoft-cs/cifar100", "CIFAR-100"),
    "fsdd": ("mteb/free-spoken-digit-dataset", "Free Spoken Digit Dataset"),
    "tfds:speech_commands": ("google/speech_commands", "Speech Commands"),
    "cifar10_clips": ("uoft-cs/cifar10", "CIFAR-10 clips (aip_keras.datasets.load_video_set)"),
}
# Packages whose registered Keras classes may appear in a zoo model, and the
# modules to import so that they are registered.
KNOWN_PACKAGES = {
    "aip_keras": ("aip_keras.input_spec", "aip_keras.losses", "aip_keras.distiller", "aip_keras.augment",
                  "aip_keras.sources.audio"),
    "keras_hub": ("keras_hub",),
}
_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{8,}")


# --------------------------------------------------------------------------- index


# An installed wheel carries the index and the default teachers here (setup.py's build_py copies them).
PACKAGED_ZOO = PACKAGE_ROOT / "data" / "zoo"


def zoo_dir(path=None):
    """The zoo folder: `path`, `$AIP_ZOO_DIR`, `zoo/` in a source checkout, or the installed package's copy."""
    if path or os.environ.get("AIP_ZOO_DIR"):
        return pathlib.Path(path or os.environ["AIP_ZOO_DIR"]).expanduser()
    checkout = REPO_ROOT / "zoo"
    return checkout if (checkout / INDEX_NAME).is_file() else PACKAGED_ZOO


def read_index(zoo=None):
    """The `index.json` of the zoo as a dict `{"format": 1, "entries": {name: entry}}`."""
    path = zoo_dir(zoo) / INDEX_NAME
    if not path.is_file():
        return {"format": 1, "entries": {}}
    try:
        index = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"zoo index {path} is not valid JSON ({error}): restore it from git.") from None
    index.setdefault("entries", {})
    return index


def list(zoo=None):  # noqa: A001 - the zoo's public verb
    """The zoo's entries, sorted by name.

    Each is the index entry (name, kind, repo_id, revision, published, accuracy,
    dataset, input_spec, ...) plus `local`: whether its folder is in this checkout.
    """
    root = zoo_dir(zoo)
    entries = []
    for name, entry in sorted(read_index(zoo)["entries"].items()):
        folder = root / entry.get("folder", name)
        entries.append({**entry, "name": name, "local": (folder / "config.json").is_file()})
    return entries


def info(name_or_repo_id, zoo=None):
    """The index entry of `name_or_repo_id` (an entry name, `owner/name` or `hf://owner/name`)."""
    name, _, entry = _resolve(name_or_repo_id, zoo)
    if entry is None:
        known = ", ".join(sorted(read_index(zoo)["entries"])) or "none"
        raise ValueError(f"{name_or_repo_id!r} is not in the zoo index: use one of {known} (aip zoo list).")
    return {**entry, "name": name}


def _resolve(name_or_repo_id, zoo=None):
    """(entry name or None, repo_id, index entry or None)."""
    text = str(name_or_repo_id).strip()
    for prefix in ("zoo:", "hf://"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip("/")
    if not text:
        raise ValueError("no zoo model named: pass an entry name (aip zoo list) or a Hub repo id owner/name.")
    entries = read_index(zoo)["entries"]
    if text in entries:
        return text, entries[text]["repo_id"], entries[text]
    for name, entry in entries.items():
        if entry.get("repo_id") == text:
            return name, text, entry
    if text.count("/") != 1 or not all(text.split("/")):
        known = ", ".join(sorted(entries)) or "none"
        raise ValueError(
            f"{name_or_repo_id!r} is neither a zoo entry nor a Hub repo id: use one of {known}, or owner/name."
        )
    return None, text, None


def _write_index(index, zoo=None):
    root = zoo_dir(zoo)
    atomic.write_json(root / INDEX_NAME, index)
    write_readme(zoo)


# --------------------------------------------------------------------------- load


class Loaded(tuple):
    """`(model, input_spec)` from `load`, plus where it came from.

    Unpacks like `load_teacher`'s result: `model, spec = zoo.load(name)`.

    Attributes:
        model: the Keras model (compile=False).
        input_spec: the `aip_keras.InputSpec` turning [0, 1] images into its input.
        sample_rate: for audio models, the sample rate in Hz; None for images.
        folder: the folder the model was read from.
        source: `"local"`, `"cache"` or `"hub"`.
        repo_id, revision: the Hub repository and the revision asked for (None: local / main).
        entry: the index entry, or None for a repo outside the index.
    """

    def __new__(cls, model, input_spec, **details):
        self = super().__new__(cls, (model, input_spec))
        self.__dict__.update(details)
        return self

    @property
    def model(self):
        return self[0]

    @property
    def input_spec(self):
        return self[1]


def load(name_or_repo_id, revision=None, safe_mode=True, zoo=None, prefer_local=True):
    """Loads a zoo model, ready to use, with the `InputSpec` of its input.

    Looks in the repository's `zoo/` folder, then the Hugging Face cache, then the
    Hub (see the module docstring); works offline from the cache with
    `HF_HUB_OFFLINE=1`.

    Args:
        name_or_repo_id: an entry name (`aip zoo list`), `zoo:<name>`, a Hub repo
            id `owner/name` or `hf://owner/name`.
        revision: a Hub revision (commit hash, tag or branch). Default: the
            revision pinned in the index (`main` for repos outside it, or entries
            not published yet).
        safe_mode: Keras' safe mode (no code from `Lambda` layers). Keep it True.
        zoo: the zoo folder (default `$AIP_ZOO_DIR` or the repository's `zoo/`).
        prefer_local: use the entry's folder in the repository when present.

    Returns:
        A `Loaded`: `(model, input_spec)` with `.sample_rate`, `.folder`,
        `.source`, `.repo_id`, `.revision` and `.entry`.

    Raises:
        ValueError: one line: unknown name, not cached and offline, files that
            differ from the index, unknown custom objects, unreadable model.

    Example:

    >>> from aip_keras import zoo
    >>> model, spec = zoo.load("fashion_mnist-teacher-small_cnn")  # doctest: +SKIP
    >>> spec.size, model.output_shape  # doctest: +SKIP
    ((28, 28), (None, 10))
    """
    name, repo_id, entry = _resolve(name_or_repo_id, zoo)
    pinned = entry.get("revision") if entry else None
    wanted = revision or pinned
    local = zoo_dir(zoo) / entry.get("folder", name) if entry else None
    if prefer_local and local is not None and (local / "config.json").is_file() and revision in (None, pinned):
        folder, source = local, "local"
    else:
        if entry is not None and not entry.get("published") and revision is None:
            has_folder = local is not None and (local / "config.json").is_file()
            where = f" (its local folder is {local})" if has_folder else f" (and not at {local})" if local else ""
            what = f"zoo entry {name!r} is not published yet{where}"
        else:
            what = None
        folder, source = _snapshot(repo_id, wanted, not_published=what)
    what = name or repo_id
    if entry is not None and revision in (None, pinned):
        _verify_files(folder, entry, what)
    model = load_folder(folder, safe_mode=safe_mode, what=f"zoo model {what}")
    spec_dict = (entry or {}).get("input_spec") or _card_metadata(folder).get("input_spec")
    spec = _input_spec(spec_dict, model)
    return Loaded(
        model, spec, sample_rate=(spec_dict or {}).get("sample_rate"), folder=pathlib.Path(folder),
        source=source, repo_id=repo_id, revision=wanted, entry=entry, name=name,
    )


def pull(name_or_repo_id, revision=None, output=None, zoo=None):
    """Downloads a zoo model into the Hugging Face cache (and `output`), checked.

    Unlike `load`, this ignores the repository's own `zoo/` folder: it fetches
    the published revision (cache first, then the Hub), checks the files against
    the index and that the model loads in safe mode.

    Args:
        name_or_repo_id: an entry name or a Hub repo id.
        revision: default: the revision pinned in the index.
        output: also copy the snapshot here (atomically: a temporary folder,
            then one move).
        zoo: the zoo folder.

    Returns:
        The folder holding the files (`output`, or the cache snapshot).
    """
    loaded = load(name_or_repo_id, revision=revision, zoo=zoo, prefer_local=False)
    if output is None:
        return loaded.folder
    output = pathlib.Path(output)
    with atomic.atomic_path(output) as tmp:
        shutil.copytree(loaded.folder, tmp, symlinks=False)
    return output


def load_folder(folder, safe_mode=True, what=None):
    """Loads a model folder in Keras' layout, refusing unknown custom objects.

    Args:
        folder: a folder with `config.json` and `model.weights.h5`.
        safe_mode: Keras' safe mode.
        what: how to name the model in errors.
    """
    import keras

    folder = pathlib.Path(folder)
    what = what or f"model folder {folder}"
    config_path = folder / "config.json"
    if not config_path.is_file() or not (folder / "model.weights.h5").is_file():
        raise ValueError(
            f"{what} at {folder} lacks config.json or model.weights.h5: it must hold what "
            "model.save(folder, zipped=False) writes."
        )
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{what}: config.json is not valid JSON ({error}): re-save or re-download it.") from None
    unknown = _unknown_custom_objects(config)
    if unknown:
        raise ValueError(
            f"{what} uses custom objects that are not registered Keras or aip_keras classes "
            f"({', '.join(unknown)}): refusing to load it; only load models whose code you trust, "
            "by importing the package that registers them and calling keras.saving.load_model yourself."
        )
    try:
        return keras.saving.load_model(str(folder), compile=False, safe_mode=safe_mode)
    except Exception as error:  # Keras raises many kinds for bad files
        full = str(error)
        if "safe_mode" in full or "arbitrary code" in full:
            fix = "it contains a Lambda layer (arbitrary code), which the zoo refuses"
        else:
            fix = "re-download it (aip zoo pull) or regenerate the entry"
        raise ValueError(f"{what} cannot be loaded ({_first_line(error)}): {fix}.") from None


def _unknown_custom_objects(config):
    """Registered names in a Keras config that are neither Keras' own nor registered here."""
    import importlib

    import keras

    found = set()

    def walk(node):
        if isinstance(node, dict):
            module = node.get("module")
            if "class_name" in node and isinstance(module, str) and module != "keras" \
                    and not module.startswith("keras."):
                found.add(node.get("registered_name") or f"{module}.{node['class_name']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, builtins.list):
            for value in node:
                walk(value)

    walk(config)
    if not found:
        return []
    for package, modules in KNOWN_PACKAGES.items():
        if any(name.startswith(package + ">") for name in found):
            for module in modules:
                try:
                    importlib.import_module(module)
                except ImportError:
                    pass
    registered = keras.saving.get_custom_objects()
    return sorted(name for name in found if name not in registered)


def _snapshot(repo_id, revision, not_published=None):
    """(folder, "cache" or "hub") of a Hub repo: the cache first, then the Hub."""
    import huggingface_hub
    from huggingface_hub import errors

    kwargs = dict(repo_id=repo_id, revision=revision, cache_dir=_hf_cache_dir(),
                  library_name="aip_keras", library_version=_version())
    at = f"{repo_id}@{revision}" if revision else repo_id
    try:
        return huggingface_hub.snapshot_download(local_files_only=True, **kwargs), "cache"
    except (errors.LocalEntryNotFoundError, errors.IncompleteSnapshotError, FileNotFoundError, OSError):
        pass
    if not_published:
        raise ValueError(
            f"{not_published} and {at} is not in the Hugging Face cache ({_hf_cache_dir()}): train or copy the "
            "entry's folder into zoo/, or publish it with aip zoo push."
        )
    if _hub_offline():
        raise ValueError(
            f"zoo model {at} is not in the Hugging Face cache ({_hf_cache_dir()}) and the Hub cannot be reached "
            "(HF_HUB_OFFLINE or no network): run aip zoo pull on a machine with network and copy the cache."
        )
    try:
        return huggingface_hub.snapshot_download(**kwargs), "hub"
    except Exception as error:
        raise ValueError(
            f"zoo model {at} could not be downloaded ({_scrub(_first_line(error))}): check the repo id, "
            "the revision and HF_TOKEN for private repos."
        ) from None


def _verify_files(folder, entry, what):
    expected = entry.get("sha256") or {}
    for filename, digest in sorted(expected.items()):
        path = pathlib.Path(folder) / filename
        actual = _sha256(path) if path.is_file() else "missing"
        if actual != digest:
            raise ValueError(
                f"zoo model {what}: {filename} in {folder} does not match the index ({actual[:12]} != "
                f"{digest[:12]}): re-download it (aip zoo pull), or rerun aip zoo card if the model was retrained."
            )


def _input_spec(spec_dict, model):
    """The `InputSpec` of an image model; None for a waveform model (its input is `(batch, samples)`)."""
    from aip_keras.input_spec import InputSpec, spec_for_model

    if (spec_dict or {}).get("modality") in ("audio", "video") or len(model.inputs[0].shape) in (2, 5):
        return None
    if not spec_dict:
        return spec_for_model(model)
    keys = ("size", "channels", "value_range", "mean", "std", "interpolation")
    return InputSpec(**{k: spec_dict[k] for k in keys if spec_dict.get(k) is not None})


def _spec_dict(model):
    """What the card and index say about the model's input (images: an InputSpec; audio: rate and length)."""
    from aip_keras.input_spec import spec_for_model

    if len(model.inputs[0].shape) == 2:
        from aip_keras.models.audio import audio_format

        fmt = audio_format(model)
        return {"modality": "audio", "sample_rate": fmt["sample_rate"], "samples": fmt["samples"],
                "value_range": [-1.0, 1.0]}
    if len(model.inputs[0].shape) == 5:
        frames, height, width, channels = model.inputs[0].shape[1:]
        return {"modality": "video", "frames": frames, "size": [height, width], "channels": channels,
                "value_range": [0.0, 1.0], "sample_rate": None}
    return {**spec_for_model(model).to_dict(), "sample_rate": None}


def _hf_cache_dir():
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _hub_offline():
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if flag or constants.HF_HUB_OFFLINE:
        return True
    from aip_keras.datasets import network_available

    return not network_available(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))


# --------------------------------------------------------------------------- entries and cards


def write_entry(
    folder,
    kind=None,
    repo_id=None,
    base_model=None,
    log=None,
    from_run=None,
    license=DEFAULT_LICENSE,  # noqa: A002 - the model card's field name
    owner=DEFAULT_OWNER,
    tags=(),
    zoo=None,
    update_index=True,
):
    """Writes a zoo entry's card files from its `run.json` and adds it to the index.

    Writes `README.md` (model card), `.eval_results/<dataset>.yaml` and, from
    `log`, `training_log.txt` (epoch summaries only). Every number comes from the
    folder's `run.json`. The model must load in safe mode.

    Args:
        folder: the entry folder, `zoo/<recipe name>`, holding the model in Keras'
            layout and `run.json` (from `aip train-teacher --output=zoo/<name>`),
            or to be created from `from_run`.
        kind: `"teacher"` or `"student"` (default: from run.json).
        repo_id: the Hub repo (default `aip-keras/<folder name>`).
        base_model: the teacher's Hub repo for a student (default: from the run's
            teacher when it is a zoo entry or `hf://` repo).
        log: the run's stdout log (progress bars are stripped) or its
            `history.csv`; default for `from_run`: its `history.csv`.
        from_run: an `aip distill` output folder: its `student.keras` and
            `run.json` become the entry (the folder is created atomically).
        license: the card's license id.
        owner: the Hub owner of the default repo id.
        tags: extra card tags.
        zoo: the zoo folder whose index is updated.
        update_index: add or refresh the entry in `index.json` and `README.md`.

    Returns:
        The index entry (a dict).
    """
    folder = pathlib.Path(folder)
    name = folder.name
    root = zoo_dir(zoo)
    relative = name
    if update_index:
        try:
            relative = str(folder.resolve().relative_to(root.resolve()))
        except ValueError:
            raise ValueError(f"zoo entry {folder} is not inside the zoo folder {root}: "
                             f"create it as {root}/{name} (or pass update_index=False).") from None
    if from_run is not None:
        _import_run(pathlib.Path(from_run), folder)
        if log is None and (pathlib.Path(from_run) / "history.csv").is_file():
            log = pathlib.Path(from_run) / "history.csv"
    run_path = folder / "run.json"
    if not run_path.is_file():
        raise ValueError(f"zoo entry {folder} has no run.json: write it with aip train-teacher --output={folder} "
                         "or pass --from_run=<aip distill output folder>.")
    run = json.loads(run_path.read_text())
    kind = kind or ("student" if "student_accuracy" in run else "teacher")
    if kind not in ("teacher", "student"):
        raise ValueError(f"kind must be 'teacher' or 'student', got {kind!r}.")
    needed = ("test_accuracy", "num_test_examples") if kind == "teacher" else ("student_accuracy", "teacher_accuracy")
    missing = [key for key in needed if key not in run]
    if missing:
        raise ValueError(f"{run_path} lacks {missing} for a {kind} card: pass the run.json of a finished "
                         f"{'aip train-teacher' if kind == 'teacher' else 'aip distill'} run.")
    model = load_folder(folder, what=f"zoo entry {name}")
    index = read_index(zoo)
    repo_id = repo_id or f"{owner}/{name}"
    config = run.get("config", {})
    if kind == "student" and base_model is None:
        base_model = _teacher_repo(config.get("teacher", ""), index, root)
    dataset = config.get("data") if kind == "teacher" else config.get("eval")
    hf_dataset, dataset_name = _hf_dataset(dataset)
    accuracy = run["test_accuracy"] if kind == "teacher" else run["student_accuracy"]
    spec = _spec_dict(model)

    if log is not None:
        log = pathlib.Path(log)
        if not log.is_file():
            raise ValueError(f"training log {log} does not exist: pass the file the run's output went to.")
        text = log.read_text(errors="replace")
        text = text if log.suffix == ".csv" else clean_log(text, source=log.name)
        _write_text(folder / LOG_NAME, text)
    eval_name = f"{_slug(dataset)}.yaml"
    for old in (folder / ".eval_results").glob("*.yaml"):
        if old.name != eval_name:
            old.unlink()
    _write_text(folder / ".eval_results" / eval_name,
                _eval_results_yaml(hf_dataset, accuracy, _num_examples(run, kind), dataset_name))
    details = dict(name=name, kind=kind, repo_id=repo_id, base_model=base_model, license=license,
                   dataset=dataset, hf_dataset=hf_dataset, dataset_name=dataset_name, accuracy=accuracy,
                   spec=spec, tags=tags, has_log=(folder / LOG_NAME).is_file(), zoo_root=root,
                   num_classes=int(model.output_shape[-1]))
    _write_text(folder / "README.md", model_card(run, details))

    hashes = {filename: _sha256(folder / filename) for filename in MODEL_FILES}
    entry = {
        "kind": kind,
        "folder": name,
        "repo_id": repo_id,
        "revision": None,
        "published": False,
        "base_model": base_model,
        "dataset": dataset,
        "hf_dataset": hf_dataset,
        "accuracy": accuracy,
        "num_test_examples": _num_examples(run, kind),
        "num_classes": int(model.output_shape[-1]),
        "input_spec": spec,
        "license": license,
        "sha256": hashes,
    }
    if kind == "student":
        entry.update(teacher_accuracy=run["teacher_accuracy"], agreement=run.get("agreement"),
                     source=config.get("source"), architecture=config.get("student"))
    else:
        entry.update(architecture=config.get("arch"))
    if update_index:
        entry["folder"] = relative
        old = index["entries"].get(name, {})
        if old.get("sha256") == hashes and old.get("repo_id") == repo_id:  # same model: keep its pin
            entry["revision"], entry["published"] = old.get("revision"), bool(old.get("published"))
        index["entries"][name] = entry
        _write_index(index, zoo)
    return entry


def _import_run(run_dir, folder):
    """Creates `folder` from an `aip distill` output folder (atomically)."""
    import keras

    student = run_dir / "student.keras"
    if not student.is_file() or not (run_dir / "run.json").is_file():
        raise ValueError(f"{run_dir} is not a finished aip distill run (student.keras and run.json): "
                         "pass the --output_dir of a completed run.")
    if (folder / "config.json").exists():
        raise ValueError(f"zoo entry {folder} already exists: remove it first, or drop --from_run to refresh its card.")
    model = keras.saving.load_model(str(student), compile=False, safe_mode=True)
    with atomic.atomic_path(folder) as tmp:
        model.save(tmp, zipped=False)
        shutil.copy2(run_dir / "run.json", tmp / "run.json")


def model_card(run, details):
    """The README.md model card (front matter + body) of a zoo entry."""
    from huggingface_hub import EvalResult, ModelCardData

    kind, name, repo_id = details["kind"], details["name"], details["repo_id"]
    config = run.get("config", {})
    accuracy = details["accuracy"]
    num = _num_examples(run, kind)
    arch = config.get("arch") if kind == "teacher" else config.get("student")
    modality = details["spec"].get("modality", "image")
    task = f"{modality}-classification"
    datum, examples = {"audio": ("clip", "recording"), "video": ("image or video", "clip")}.get(
        modality, ("image", "image"))
    tags = ["keras", task, "aip-keras", kind, *details["tags"]]
    if kind == "student":
        tags += ["knowledge-distillation", "augmented-image-prior", "single-image-distillation"]
    aip_meta = {"kind": kind, "input_spec": details["spec"]}
    if run.get("class_names"):
        aip_meta["class_names"] = run["class_names"]
    data = ModelCardData(
        library_name="keras",
        license=details["license"],
        tags=tags,
        datasets=[details["hf_dataset"]],
        base_model=details["base_model"],
        pipeline_tag=task,
        model_name=name,
        eval_results=[EvalResult(
            task_type=task, task_name=task.replace("-", " ").title(),
            dataset_type=details["hf_dataset"], dataset_name=details["dataset_name"], dataset_split="test",
            metric_type="accuracy", metric_value=accuracy, metric_name="Top-1 accuracy",
        )],
        aip_keras=aip_meta,
    )
    teacher_accuracy = accuracy if kind == "teacher" else run["teacher_accuracy"]
    spec = details["spec"]
    env = run.get("environment", {})
    rows = [
        ("Top-1 accuracy", f"{accuracy:.4f} on {num:,} {details['dataset_name']} test {examples}s"),
    ]
    top5 = run.get("test_top5") if kind == "teacher" else run.get("metrics", {}).get("student_top5")
    if top5 is not None:
        rows.append(("Top-5 accuracy", f"{top5:.4f}"))
    if kind == "teacher":
        rows += [
            ("Teacher accuracy", f"{teacher_accuracy:.4f} (this model is a teacher)"),
            ("Source datum", f"none: supervised training on the {details['dataset']} train split"),
            ("Budget", _teacher_budget(run)),
        ]
    else:
        rows += [
            ("Teacher accuracy", f"{teacher_accuracy:.4f} ({details['base_model'] or config.get('teacher')})"),
            ("Agreement with the teacher", f"{run.get('agreement', float('nan')):.4f}"),
            ("Source datum", f"`{config.get('source')}`: the one {datum} whose augmented crops were all it saw"),
            ("Budget", _student_budget(run)),
        ]
    rows.append(("Input", _describe_spec(spec)))
    rows.append(("Architecture", f"`{arch}` ({details['num_classes']} classes)"))
    table = "\n".join(["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    recipe = "\n".join(f"| `{k}` | `{json.dumps(v)}` |" for k, v in sorted(config.items()))
    what = (f"A {details['dataset_name']} classifier (`{arch}`) trained with `aip train-teacher`: the teacher "
            "that aip_keras students are distilled from." if kind == "teacher" else
            f"A `{arch}` student distilled from a {details['dataset_name']} teacher with "
            f"aip_keras (the Augmented Image Prior, Asano & Saeed, ICLR 2023): it never saw "
            f"a {details['dataset_name']} {examples}, only augmented crops of one {datum} labelled by the teacher.")
    labels = ""
    if run.get("class_names"):
        labels = "\nClass ids in order: " + ", ".join(f"`{c}`" for c in run["class_names"]) + ".\n"
    files = ["`config.json`, `model.weights.h5`, `metadata.json`: the model in Keras 3's format",
             "`run.json`: the run's full config and measured metrics (every number on this card comes from it)",
             f"`.eval_results/{_slug(details['dataset'])}.yaml`: the accuracy in the Hub's eval-results format"]
    if details["has_log"]:
        files.append(f"`{LOG_NAME}`: the training log (epoch summaries)")
    usage = {"audio": f'model, _ = zoo.load("{name}")  # model takes (batch, samples) waveforms in [-1, 1]',
             "video": f'model, _ = zoo.load("{name}")  # model takes (batch, frames, H, W, C) clips in [0, 1]'}.get(
        modality, f'model, spec = zoo.load("{name}")  # model takes spec(images) for images in [0, 1]')
    body = f"""
# {name}

{what}

{table}
{labels}
## Use

```python
from aip_keras import zoo

{usage}
```

Without aip_keras (plain Keras 3, any backend):

```python
import keras

model = keras.saving.load_model("hf://{repo_id}")
```

As a teacher for a new distillation: `aip distill --teacher=zoo:{name}`.

## Reproduce

```bash
{_reproduce(run, kind, name, details)}
```

## Recipe (`run.json` config)

| Setting | Value |
|---|---|
{recipe}

## Files

{chr(10).join('- ' + f for f in files)}

Trained on {env.get('machine', 'an unrecorded machine')} with TensorFlow {env.get('tensorflow', '?')}, Keras \
{env.get('keras', '?')} (aip_keras commit `{env.get('git_commit') or '?'}`).
"""
    return f"---\n{data.to_yaml()}\n---\n{body}"


def _teacher_budget(run):
    config = run.get("config", {})
    limit = config.get("train_limit") or "all"
    minutes = run.get("wall_seconds", 0) / 60
    return (f"{config.get('epochs')} epochs, batch {config.get('batch_size')}, training images: {limit}; "
            f"{minutes:.1f} min wall time")


def _student_budget(run):
    config = run.get("config", {})
    minutes = config.get("time_budget_minutes") or 0
    limit = f"time budget {minutes:g} min" if minutes else "no time budget"
    stopped = " (stopped by the time budget)" if run.get("stopped_by_time_budget") else ""
    return (f"{run.get('samples_seen', 0):,} augmented patches seen over up to {config.get('epochs')} epochs, "
            f"{limit}{stopped}; {run.get('train_seconds', 0) / 60:.1f} min training")


def _describe_spec(spec):
    if spec.get("modality") == "video":
        return (f"clips of {spec['frames']} frames of {'x'.join(str(s) for s in spec['size'])}x{spec['channels']}, "
                "values in [0, 1] (the model normalises inside)")
    if spec.get("modality") == "audio":
        length = f"{spec['samples']} samples ({spec['samples'] / spec['sample_rate']:g} s)" if spec.get("samples") \
            else "any length"
        return (f"mono waveforms of {length} at {spec['sample_rate']} Hz, values in [-1, 1] "
                "(the model computes its log-mel front end inside)")
    size = "x".join(str(s) for s in spec.get("size") or []) or "any size"
    channels = spec.get("channels")
    low, high = spec.get("value_range", [0, 1])
    text = f"{size}x{channels} images, values in [{low:g}, {high:g}]"
    if spec.get("mean") is not None:
        text += f", then (x - {spec['mean']}) / {spec['std']}"
    else:
        text += " (the model normalises inside)"
    if spec.get("sample_rate"):
        text += f", {spec['sample_rate']} Hz"
    return text


def _reproduce(run, kind, name, details):
    if kind == "student":
        teacher = details["base_model"]
        entries = read_index(details["zoo_root"])["entries"]
        teacher_name = next((n for n, e in entries.items() if e.get("repo_id") == teacher), None)
        override = f" --teacher=zoo:{teacher_name}" if teacher_name else ""
        return (f"aip distill --config=zoo/{name}/run.json{override} --output_dir=runs/{name}\n"
                f"aip zoo card --folder=zoo/{name} --from_run=runs/{name} --kind=student")
    from aip_keras.jobs import TeacherConfig

    config = run.get("config", {})
    defaults = TeacherConfig().to_dict()
    parts = ["aip train-teacher"]
    for key in sorted(config, key=lambda k: (k not in ("data", "arch"), k != "data", k)):
        value = config[key]
        if key not in ("data", "arch") and defaults.get(key) == value:
            continue
        if isinstance(value, bool):
            parts.append(f"--{'' if value else 'no'}{key}")
        elif isinstance(value, dict):
            parts.append(f"--{key}={shlex.quote(json.dumps(value))}")
        else:
            parts.append(f"--{key}={shlex.quote(str(value))}")
    parts.append(f"--output=zoo/{name}")
    log = " > teacher.log" if details["has_log"] else ""
    return " ".join(parts) + f"{log}\naip zoo card --folder=zoo/{name} --kind=teacher" + (
        " --log=teacher.log" if log else "")


def _eval_results_yaml(hf_dataset, accuracy, num_examples, dataset_name):
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml
    from huggingface_hub.utils import yaml_dump

    entry = EvalResultEntry(
        dataset_id=hf_dataset, task_id="default", value=accuracy,
        notes=f"top-1 accuracy on the {dataset_name} test split ({num_examples} images), from run.json",
    )
    return yaml_dump(eval_result_entries_to_yaml([entry]))


def _num_examples(run, kind):
    return run["num_test_examples"] if kind == "teacher" else run.get("metrics", {}).get("num_examples")


def _hf_dataset(dataset):
    key = str(dataset or "unknown")
    if key in HF_DATASETS:
        return HF_DATASETS[key]
    if key.startswith("tfds:"):
        return key[5:], key[5:]
    return pathlib.Path(key).name, pathlib.Path(key).name


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", pathlib.Path(str(text or "eval")).name).strip("_") or "eval"


def _teacher_repo(teacher, index, root):
    """The Hub repo of a distillation's teacher, when it is a zoo entry or hf:// repo."""
    teacher = str(teacher)
    if teacher.startswith("zoo:"):
        entry = index["entries"].get(teacher[4:])
        return entry["repo_id"] if entry else None
    if teacher.startswith("hf://"):
        return teacher[5:].strip("/")
    if teacher.startswith("kerashub:hf://"):
        return teacher[len("kerashub:hf://"):].strip("/")
    path = pathlib.Path(teacher)
    for name, entry in index["entries"].items():
        folder = root / entry.get("folder", name)
        if path.name == folder.name and (not path.exists() or path.resolve() == folder.resolve()):
            return entry["repo_id"]
    return None


def _card_metadata(folder):
    """The card's `aip_keras` front-matter block ({} when absent)."""
    readme = pathlib.Path(folder) / "README.md"
    if not readme.is_file():
        return {}
    from huggingface_hub import ModelCard

    try:
        return ModelCard.load(readme, ignore_metadata_errors=True).data.to_dict().get("aip_keras") or {}
    except Exception:
        return {}


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_EPOCH = re.compile(r"^Epoch \d+/\d+$")
_STEP = re.compile(r"^(\d+)/(\d+)\s")
_BAR = re.compile(r"\s*[\u2500-\u259f]+\s*")
_KEEP = re.compile(r"^(teacher|student)( test)? accuracy|^wall time")


def clean_log(text, source=None):
    """The epoch summary lines of a Keras training log, without progress bars.

    Keeps `Epoch i/n` lines, the last (completed) step line of each epoch with
    its metrics, and the final accuracy lines printed by `aip`. If the log holds
    several runs (a restarted job appended to it), only the last one is kept.

    Example:

    >>> clean_log("Epoch 1/1\\n\\x1b[1m1/2\\x1b[0m ━━ 1s\\r2/2 ━━━━ 2s 9ms/step - loss: 0.5")
    'Epoch 1/1\\n2/2 - 2s 9ms/step - loss: 0.5\\n'
    """
    lines = []
    for raw in re.split(r"[\r\n\x08]+", _ANSI.sub("", text)):
        line = raw.strip()
        if _EPOCH.match(line):
            if line.startswith("Epoch 1/"):
                lines = []
            lines.append(line)
            continue
        step = _STEP.match(line)
        if step and step.group(1) == step.group(2) and lines:
            summary = _BAR.sub(" - ", line, count=1)
            if _STEP.match(lines[-1]):
                lines[-1] = summary
            else:
                lines.append(summary)
        elif _KEEP.match(line) and lines:
            lines.append(line)
    if not any(_EPOCH.match(line) for line in lines):
        raise ValueError(f"no Keras epoch lines in the training log{' ' + source if source else ''}: "
                         "pass the stdout of the training run (verbose=1 or 2).")
    header = f"# Epoch summaries{' from ' + source if source else ''} (progress bars removed)\n" if source else ""
    return header + "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- publish


def publish(model_or_folder, repo_id=None, dry_run=False, output=None, private=None,
            commit_message=None, zoo=None, update_index=True):
    """Uploads a zoo entry (or a Keras model) to the Hugging Face Hub.

    The files go through a staging folder holding exactly what is uploaded
    (the model files, README.md, run.json, the training log, `.eval_results/`);
    the upload is one `HfApi.upload_folder` commit that also removes stale files
    from the repo. For an index entry the returned commit hash is written back
    into `index.json` as its pinned revision (`published: true`).

    The token comes from the environment (`HF_TOKEN`, or `hf auth login`'s
    stored token) and never appears in output or errors.

    Args:
        model_or_folder: a zoo entry name, an entry folder, or a `keras.Model`
            (uploaded with a minimal card).
        repo_id: the Hub repo; default: the entry's (and it must match the card).
        dry_run: upload nothing: write the staging folder to `output` instead.
        output: the dry-run folder (default `runs/zoo-push/<name>`), replaced atomically.
        private: create the repo private.
        commit_message: default `"Upload <name> (aip_keras)"`.
        zoo: the zoo folder.
        update_index: write the pinned revision into the index after a real push.

    Returns:
        A dict: `repo_id`, `files`, `dry_run`, `folder` (the dry-run folder),
        `create_repo` and `upload_folder` (the keyword arguments of the calls
        made, or that would be made), and `revision` (the commit, after a push).
    """
    import keras

    name, entry = None, None
    if isinstance(model_or_folder, keras.Model):
        if repo_id is None:
            raise ValueError("publishing a keras.Model needs repo_id='owner/name'.")
        name = repo_id.split("/")[-1]
    else:
        text = str(model_or_folder)
        path = pathlib.Path(text).expanduser()
        if path.is_dir():
            name = path.name
            entry = read_index(zoo)["entries"].get(name)
            if entry is not None and (zoo_dir(zoo) / entry.get("folder", name)).resolve() != path.resolve():
                entry = None  # a folder of the same name elsewhere: not the index entry
        else:
            name, _, entry = _resolve(text, zoo)
            if entry is None:
                raise ValueError(f"{text!r} is neither a folder nor a zoo entry: pass zoo/<name> or an entry name.")
            path = zoo_dir(zoo) / entry.get("folder", name)
        if entry is not None:
            repo_id = repo_id or entry["repo_id"]
            if repo_id != entry["repo_id"]:
                raise ValueError(f"zoo entry {name} is recorded for {entry['repo_id']}, not {repo_id}: regenerate "
                                 f"its card with aip zoo card --folder={path} --repo_id={repo_id} first.")
        repo_id = repo_id or _card_repo(path) or f"{DEFAULT_OWNER}/{name}"
    _resolve(repo_id, zoo)  # validates the owner/name form
    message = commit_message or f"Upload {name} (aip_keras {_version()})"

    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f".zoo-push-{name}."))
    try:
        staged = workdir / name
        if isinstance(model_or_folder, keras.Model):
            _stage_model(model_or_folder, staged, repo_id)
        else:
            _stage_folder(path, staged, entry, name)
        files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
        create_kwargs = dict(repo_id=repo_id, repo_type="model", exist_ok=True, private=private)
        upload_kwargs = dict(repo_id=repo_id, repo_type="model", folder_path=str(staged),
                             commit_message=message, delete_patterns=["*"])
        result = {"repo_id": repo_id, "name": name, "files": files, "dry_run": bool(dry_run),
                  "create_repo": create_kwargs, "upload_folder": upload_kwargs, "revision": None, "folder": None}
        if dry_run:
            target = pathlib.Path(output or pathlib.Path("runs") / "zoo-push" / name)
            with atomic.atomic_path(target) as tmp:
                shutil.copytree(staged, tmp)
            result["folder"] = target
            upload_kwargs["folder_path"] = str(target)
            return result
        result["revision"] = _upload(create_kwargs, upload_kwargs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    upload_kwargs["folder_path"] = None  # the staging folder is gone
    if entry is not None and update_index:
        index = read_index(zoo)
        index["entries"][name].update(revision=result["revision"], published=True)
        _write_index(index, zoo)
    return result


def _upload(create_kwargs, upload_kwargs):
    import huggingface_hub

    token = huggingface_hub.get_token()
    if not token:
        raise ValueError("no Hugging Face token: set HF_TOKEN (a write token) or run hf auth login, "
                         "or use --dry_run to only write the folder.")
    try:
        api = huggingface_hub.HfApi(token=token, library_name="aip_keras", library_version=_version())
        repo = api.create_repo(**create_kwargs)
        upload_kwargs["repo_id"] = create_kwargs["repo_id"] = getattr(repo, "repo_id", None) or create_kwargs["repo_id"]
        commit = api.upload_folder(**upload_kwargs)
    except Exception as error:  # never chain: the original may carry request details
        raise ValueError(
            f"publishing to {create_kwargs['repo_id']} failed ({_scrub(_first_line(error), token)}): "
            "check the network, the repo id and that HF_TOKEN has write access."
        ) from None
    return commit.oid


def _stage_folder(path, staged, entry, name):
    missing = [f for f in (*MODEL_FILES, "README.md") if not (path / f).is_file()]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}: save the model with model.save(folder, zipped=False) "
                         f"and write its card with aip zoo card --folder={path}.")
    if entry is not None:
        _verify_files(path, entry, name)
    _check_card(path / "README.md")
    staged.mkdir(parents=True)
    for filename in (*MODEL_FILES, *CARD_FILES):
        if (path / filename).is_file():
            shutil.copy2(path / filename, staged / filename)
    for sub, pattern in ((".eval_results", "*.yaml"), ("assets", "**/*")):
        for source in sorted((path / sub).glob(pattern)):
            if source.is_file():
                target = staged / source.relative_to(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    load_folder(staged, what=f"zoo entry {name}")  # what is uploaded loads in safe mode


def _stage_model(model, staged, repo_id):
    from huggingface_hub import ModelCardData

    model.save(staged, zipped=False)
    data = ModelCardData(library_name="keras", tags=["keras", "aip-keras"])
    (staged / "README.md").write_text(
        f"---\n{data.to_yaml()}\n---\n\n# {repo_id}\n\nA Keras 3 model uploaded with aip_keras. Load it with "
        f"`keras.saving.load_model(\"hf://{repo_id}\")`.\n"
    )
    load_folder(staged, what=f"model {model.name}")


def _check_card(readme):
    from huggingface_hub import ModelCard

    try:
        data = ModelCard.load(readme).data
    except Exception as error:
        raise ValueError(f"model card {readme} is invalid ({_first_line(error)}): regenerate it with aip zoo card.") \
            from None
    if data.library_name != "keras":
        raise ValueError(f"model card {readme} lacks library_name: keras: regenerate it with aip zoo card.")


def _card_repo(folder):
    readme = pathlib.Path(folder) / "README.md"
    if readme.is_file():
        match = re.search(r'load_model\("hf://([^"]+)"\)', readme.read_text())
        if match:
            return match.group(1)
    return None


# --------------------------------------------------------------------------- zoo README


def write_readme(zoo=None):
    """Regenerates `zoo/README.md` (what the zoo is, and the table of entries) from the index."""
    root = zoo_dir(zoo)
    rows = []
    for entry in list(zoo):
        accuracy = f"{entry['accuracy']:.4f}" if isinstance(entry.get("accuracy"), (int, float)) else "?"
        teacher = entry.get("teacher_accuracy")
        teacher = f"{teacher:.4f}" if isinstance(teacher, (int, float)) else "-"
        revision = f"`{entry['revision'][:12]}`" if entry.get("revision") else "not published"
        rows.append(
            f"| [`{entry['name']}`]({entry.get('folder', entry['name'])}/README.md) | {entry.get('kind')} "
            f"| {entry.get('dataset')} | {accuracy} | {teacher} | {entry.get('source') or '-'} "
            f"| {entry.get('base_model') or '-'} | [{entry['repo_id']}](https://huggingface.co/{entry['repo_id']}) "
            f"| {revision} |"
        )
    table = "\n".join(rows) or "| (no entries yet) | | | | | | | | |"
    text = f"""# Model zoo

Teachers and students produced by this project's runs, one folder per model named
after its recipe (`<dataset>-teacher-<arch>`, `<dataset>-<student>-from-<source>`).
Each folder holds exactly what goes to its Hugging Face Hub repository: the model
in Keras 3's format (`config.json`, `model.weights.h5`, `metadata.json`), the model
card `README.md`, `.eval_results/*.yaml`, `run.json` (run config and metrics) and
`training_log.txt`. `index.json` lists the entries with their repo, pinned revision
and the SHA-256 of the model files. This file is generated from it
(`aip zoo card` / `aip zoo push` rewrite it).

| Model | Kind | Dataset | Test acc. | Teacher acc. | Source datum | Base model | Hub repo | Revision |
|---|---|---|---|---|---|---|---|---|
{table}

## Use

```python
from aip_keras import zoo

zoo.list()                                    # the entries
model, spec = zoo.load("<name>")              # spec: an InputSpec for [0, 1] images
```

```bash
aip zoo list
aip zoo pull <name> [--revision=<commit>] [--output=<folder>]
aip distill --teacher=zoo:<name>              # any entry as a teacher
```

`zoo.load` looks in this order: (1) the entry's folder here in `zoo/` (unless
another revision than the pinned one is asked for), (2) the Hugging Face cache
(`$HF_HUB_CACHE`, default `$HF_HOME/hub`) at the pinned revision, (3) the Hub
(not with `HF_HUB_OFFLINE=1`). Models load with Keras' `safe_mode=True`, unknown
custom objects are refused, and the files must match the SHA-256 in the index.

## Add and publish an entry

```bash
aip train-teacher --data=fashion_mnist --arch=small_cnn --output=zoo/<name> > teacher.log
aip zoo card --folder=zoo/<name> --kind=teacher --log=teacher.log
# a student: from the output folder of an aip distill run
aip zoo card --folder=zoo/<name> --from_run=runs/<run> --kind=student
aip zoo push <name> --dry_run --output=/tmp/<name>   # the exact folder that would be uploaded
HF_TOKEN=... aip zoo push <name>                     # uploads, then pins the commit in index.json
```

Entries not published yet have `revision: null, published: false`; `aip zoo push`
writes the commit hash returned by the upload into `index.json`. Regenerating a
card for a retrained model (new SHA-256) resets the entry to unpublished.
"""
    root.mkdir(parents=True, exist_ok=True)
    _write_text(root / "README.md", text)


# --------------------------------------------------------------------------- helpers


def _write_text(path, text):
    with atomic.atomic_path(path) as tmp:
        tmp.write_text(text)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version():
    from aip_keras import __version__

    return __version__


def _first_line(error, limit=240):
    text = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _scrub(text, token=None):
    """`text` without the token (or anything shaped like a Hugging Face token)."""
    for secret in {token, os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")}:
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_PATTERN.sub("hf_***", text)
