"""The text of the zoo: model cards, eval-results YAML, cleaned training logs, and the zoo's README.

Every number on a card comes from the entry's `run.json`; nothing on a card
names a path of the machine that trained it (`portable_run` turns absolute paths
into file names, or `zoo:<name>` for zoo entries). Each card says exactly what
loading the model needs: plain Keras for models made of Keras' own layers, or
`import aip_keras.front_end` first for models that carry its custom layers.

Example:

>>> portable("/home/me/clips/speech.wav"), portable("china")
('speech.wav', 'china')
"""

import copy
import json
import pathlib
import re
import shlex

from aip_keras import atomic
from aip_keras.config import TeacherConfig
from aip_keras.utils import first_line
from aip_keras.zoo import folders, index

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
ABSOLUTE_PATH = re.compile(r"^(/|~[/\\]|[A-Za-z]:[\\/]|\\\\)")  # POSIX, home, drive letter, UNC


# --------------------------------------------------------------------------- portable runs


def portable(value, entry_names=()):
    """A run.json string without this machine's paths: an absolute path -> its file name (`zoo:<name>` for an entry)."""
    if not isinstance(value, str) or not ABSOLUTE_PATH.match(value):
        return value
    name = pathlib.PureWindowsPath(value).name if "\\" in value else pathlib.PurePosixPath(value).name
    return f"zoo:{name}" if name in entry_names else name


def portable_run(run, entry_names=()):
    """A copy of a run.json dict with every absolute path replaced by `portable(path)`."""
    def walk(node):
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return portable(node, entry_names)

    return walk(copy.deepcopy(run))


def source_label(run):
    """The card's name for a student's source datum: the file name, plus the run's `source_note` if any."""
    source = portable(run.get("config", {}).get("source"))
    note = run.get("source_note")
    return f"`{source}` ({note})" if note else f"`{source}`"


# --------------------------------------------------------------------------- model cards


def model_card(run, details):
    """The README.md model card (front matter + body) of a zoo entry.

    `details` holds what `write_entry` found: name, kind, repo_id, base_model,
    license, dataset, hf_dataset, dataset_name, accuracy, spec, tags, has_log,
    zoo_root, num_classes, and `requires` / `custom_objects` (what loading needs).
    """
    from huggingface_hub import EvalResult, ModelCardData

    kind, name, repo_id = details["kind"], details["name"], details["repo_id"]
    config = run.get("config", {})
    accuracy = details["accuracy"]
    num = num_examples(run, kind)
    arch = config.get("arch") if kind == "teacher" else config.get("student")
    modality = details["spec"].get("modality", "image")
    task = f"{modality}-classification"
    datum, examples = {"audio": ("clip", "recording"), "video": ("image or video", "clip")}.get(
        modality, ("image", "image"))
    tags = ["keras", task, "aip-keras", kind, *details["tags"]]
    if kind == "student":
        tags += ["knowledge-distillation", "augmented-image-prior", "single-image-distillation"]
    aip_meta = {"kind": kind, "input_spec": details["spec"], "requires": details["requires"]}
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
    env = run.get("environment", {})
    rows = [("Top-1 accuracy", f"{accuracy:.4f} on {num:,} {details['dataset_name']} test {examples}s")]
    top5 = run.get("test_top5") if kind == "teacher" else run.get("metrics", {}).get("student_top5")
    if top5 is not None:
        rows.append(("Top-5 accuracy", f"{top5:.4f}"))
    if kind == "teacher":
        rows += [
            ("Teacher accuracy", f"{teacher_accuracy:.4f} (this model is a teacher)"),
            ("Source datum", f"none: supervised training on the {details['dataset']} train split"),
            ("Budget", teacher_budget(run)),
        ]
    else:
        rows += [
            ("Teacher accuracy", f"{teacher_accuracy:.4f} ({details['base_model'] or portable(config.get('teacher'))})"),
            ("Agreement with the teacher", f"{run.get('agreement', float('nan')):.4f}"),
            ("Source datum", f"{source_label(run)}: the one {datum} whose augmented crops were all it saw"),
            ("Budget", student_budget(run)),
        ]
    rows.append(("Input", describe_spec(details["spec"])))
    rows.append(("Architecture", f"`{arch}` ({details['num_classes']} classes)"))
    rows.append(("Loads with", loads_with(details["requires"])))
    table = "\n".join(["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    recipe = "\n".join(f"| `{k}` | `{json.dumps(portable(v))}` |" for k, v in sorted(config.items()))
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
             f"`.eval_results/{slug(details['dataset'])}.yaml`: the accuracy in the Hub's eval-results format"]
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

{keras_usage(repo_id, details["requires"], details["custom_objects"])}

As a teacher for a new distillation: `aip distill --teacher=zoo:{name}`.

## Reproduce

```bash
{reproduce(run, kind, name, details)}
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


def loads_with(requires):
    """The card's one-line answer to "what do I need to load it"."""
    if requires == ["keras"]:
        return "plain Keras 3 (`keras.saving.load_model`), no aip_keras needed"
    return " + ".join(f"`pip install {package}`" for package in requires) + \
        f", then `{'; '.join(folders.registering_import(p) for p in requires)}` before `keras.saving.load_model`"


def keras_usage(repo_id, requires, custom):
    """The card's "load it with Keras" paragraph and snippet, exact about what must be imported first."""
    load = f'model = keras.saving.load_model("hf://{repo_id}")'
    if requires == ["keras"]:
        return ("Without aip_keras (plain Keras 3: the model is built from Keras' own layers only):\n\n"
                f"```python\nimport keras\n\n{load}\n```")
    names = ", ".join(f"`{name}`" for name in custom)
    installs = " ".join(requires)
    imports = "\n".join(f"{folders.registering_import(package)}  # registers "
                        f"{', '.join(c for c in custom if c.startswith(package))}" for package in requires)
    statements = "; ".join(folders.registering_import(package) for package in requires)
    return (f"With Keras directly: the model carries custom layers ({names}), so it needs "
            f"`pip install {installs}` and `{statements}` (which registers them) before "
            f"`keras.saving.load_model`; plain Keras alone cannot load it. With the TensorFlow backend:\n\n"
            f"```python\n{imports}\nimport keras\n\n{load}\n```")


def teacher_budget(run):
    config = run.get("config", {})
    limit = config.get("train_limit") or "all"
    minutes = run.get("wall_seconds", 0) / 60
    return (f"{config.get('epochs')} epochs, batch {config.get('batch_size')}, training images: {limit}; "
            f"{minutes:.1f} min wall time")


def student_budget(run):
    config = run.get("config", {})
    minutes = config.get("time_budget_minutes") or 0
    limit = f"time budget {minutes:g} min" if minutes else "no time budget"
    stopped = " (stopped by the time budget)" if run.get("stopped_by_time_budget") else ""
    return (f"{run.get('samples_seen', 0):,} augmented patches seen over up to {config.get('epochs')} epochs, "
            f"{limit}{stopped}; {run.get('train_seconds', 0) / 60:.1f} min training")


def describe_spec(spec):
    """One line on what a model takes (images, clips or waveforms), from its spec dict."""
    if spec.get("modality") == "video":
        return (f"clips of {spec['frames']} frames of {'x'.join(str(s) for s in spec['size'])}x{spec['channels']}, "
                "values in [0, 1] (the model normalises inside)")
    if spec.get("modality") == "audio":
        length = f"{spec['samples']} samples ({spec['samples'] / spec['sample_rate']:g} s)" if spec.get("samples") \
            else "any length"
        return (f"mono waveforms of {length} at {spec['sample_rate']} Hz, values in [-1, 1] "
                "(the model computes its log-mel front end inside)")
    size = "x".join(str(s) for s in spec.get("size") or []) or "any size"
    low, high = spec.get("value_range", [0, 1])
    text = f"{size}x{spec.get('channels')} images, values in [{low:g}, {high:g}]"
    if spec.get("mean") is not None:
        text += f", then (x - {spec['mean']}) / {spec['std']}"
    else:
        text += " (the model normalises inside)"
    if spec.get("sample_rate"):
        text += f", {spec['sample_rate']} Hz"
    return text


def reproduce(run, kind, name, details):
    """The shell commands that retrain an entry and rewrite its card."""
    config = run.get("config", {})
    if kind == "student":
        teacher = details["base_model"]
        entries = index.read_index(details["zoo_root"])["entries"]
        teacher_name = next((n for n, e in entries.items() if e.get("repo_id") == teacher), None)
        override = f" --teacher=zoo:{teacher_name}" if teacher_name else ""
        source = portable(config.get("source"))
        if isinstance(source, str) and pathlib.PurePath(source).suffix:  # a file of the training machine
            override += f" --source=<path to {source}>"
        return (f"aip distill --config=zoo/{name}/run.json{override} --output_dir=runs/{name}\n"
                f"aip zoo card --folder=zoo/{name} --from_run=runs/{name} --kind=student")
    defaults = TeacherConfig().to_dict()
    parts = ["aip train-teacher"]
    for key in sorted(config, key=lambda k: (k not in ("data", "arch"), k != "data", k)):
        value = portable(config[key])
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


def eval_results_yaml(hf_dataset, accuracy, num_test, dataset_name):
    """The `.eval_results/<dataset>.yaml` text: the accuracy in the Hub's eval-results format."""
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml
    from huggingface_hub.utils import yaml_dump

    entry = EvalResultEntry(
        dataset_id=hf_dataset, task_id="default", value=accuracy,
        notes=f"top-1 accuracy on the {dataset_name} test split ({num_test} images), from run.json",
    )
    return yaml_dump(eval_result_entries_to_yaml([entry]))


def num_examples(run, kind):
    return run["num_test_examples"] if kind == "teacher" else run.get("metrics", {}).get("num_examples")


def hf_dataset(dataset):
    """`(Hub dataset id, pretty name)` of an eval set name."""
    key = str(dataset or "unknown")
    if key in HF_DATASETS:
        return HF_DATASETS[key]
    if key.startswith("tfds:"):
        return key[5:], key[5:]
    return pathlib.Path(key).name, pathlib.Path(key).name


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", pathlib.Path(str(text or "eval")).name).strip("_") or "eval"


# --------------------------------------------------------------------------- reading cards


def card_metadata(folder):
    """The card's `aip_keras` front-matter block ({} when absent)."""
    readme = pathlib.Path(folder) / "README.md"
    if not readme.is_file():
        return {}
    from huggingface_hub import ModelCard

    try:
        return ModelCard.load(readme, ignore_metadata_errors=True).data.to_dict().get("aip_keras") or {}
    except Exception:
        return {}


def check_card(readme):
    """Raises a one-line ValueError unless `readme` is a valid Keras model card."""
    from huggingface_hub import ModelCard

    try:
        data = ModelCard.load(readme).data
    except Exception as error:
        raise ValueError(f"model card {readme} is invalid ({first_line(error)}): regenerate it with aip zoo card.") \
            from None
    if data.library_name != "keras":
        raise ValueError(f"model card {readme} lacks library_name: keras: regenerate it with aip zoo card.")


def card_repo(folder):
    """The Hub repo a card's `load_model("hf://...")` line names, or None."""
    readme = pathlib.Path(folder) / "README.md"
    if readme.is_file():
        match = re.search(r'load_model\("hf://([^"]+)"\)', readme.read_text())
        if match:
            return match.group(1)
    return None


# --------------------------------------------------------------------------- logs


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


# --------------------------------------------------------------------------- the zoo's README


def write_text(path, text):
    """Writes a text file atomically."""
    with atomic.atomic_path(path) as tmp:
        tmp.write_text(text)


def write_readme(zoo=None):
    """Regenerates the writable zoo's `README.md` (what the zoo is, and the table of its entries)."""
    root = index.zoo_dir(zoo)
    rows = []
    for name, entry in sorted(index.read_folder_index(root)["entries"].items()):
        accuracy = f"{entry['accuracy']:.4f}" if isinstance(entry.get("accuracy"), (int, float)) else "?"
        teacher = entry.get("teacher_accuracy")
        teacher = f"{teacher:.4f}" if isinstance(teacher, (int, float)) else "-"
        revision = f"`{entry['revision'][:12]}`" if entry.get("revision") else "not published"
        needs = ", ".join(f"`{p}`" for p in entry.get("requires") or ["keras"])
        rows.append(
            f"| [`{name}`]({entry.get('folder', name)}/README.md) | {entry.get('kind')} "
            f"| {entry.get('dataset')} | {accuracy} | {teacher} | {portable(entry.get('source')) or '-'} "
            f"| {entry.get('base_model') or '-'} | {needs} "
            f"| [{entry['repo_id']}](https://huggingface.co/{entry['repo_id']}) | {revision} |"
        )
    table = "\n".join(rows) or "| (no entries yet) | | | | | | | | | |"
    text = f"""# Model zoo

Teachers and students produced by this project's runs, one folder per model named
after its recipe (`<dataset>-teacher-<arch>`, `<dataset>-<student>-from-<source>`).
Each folder holds exactly what goes to its Hugging Face Hub repository: the model
in Keras 3's format (`config.json`, `model.weights.h5`, `metadata.json`), the model
card `README.md`, `.eval_results/*.yaml`, `run.json` (run config and metrics) and
`training_log.txt`. `index.json` lists the entries with their repo, pinned revision,
the SHA-256 of the model files and what loading them needs (`requires`: `keras`
alone, or `aip_keras` for models with its custom layers). This file is generated
from it (`aip zoo card` / `aip zoo push` rewrite it).

| Model | Kind | Dataset | Test acc. | Teacher acc. | Source datum | Base model | Loads with | Hub repo | Revision |
|---|---|---|---|---|---|---|---|---|---|
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

`zoo.load` looks in this order: (1) the entry's folder in the zoo (unless another
revision than the pinned one is asked for), (2) the Hugging Face cache
(`$HF_HUB_CACHE`, default `$HF_HOME/hub`) at the pinned revision, (3) the Hub
(not with `HF_HUB_OFFLINE=1`). Models load with Keras' `safe_mode=True`, unknown
custom objects are refused, and the files must match the SHA-256 in the index.

Where entries live: an installed aip_keras carries some entries read-only
(`aip_keras/data/zoo`); `aip zoo card` and `aip zoo push` write to `$AIP_ZOO_DIR`,
else to this `zoo/` folder in a source checkout, else to `~/.cache/aip_keras/zoo`
(`$AIP_CACHE_DIR/zoo`), never into the installed package.

## Add and publish an entry

```bash
aip train-teacher --data=fashion_mnist --arch=small_cnn --output=zoo/<name> > teacher.log
aip zoo card --folder=zoo/<name> --kind=teacher --log=teacher.log
# a student: from the output folder of an aip distill run
aip zoo card --folder=zoo/<name> --from_run=runs/<run> --kind=student
aip zoo push <name> --dry_run --output=runs/zoo-push/<name>   # the exact folder that would be uploaded
HF_TOKEN=... aip zoo push <name>                              # uploads, then pins the commit in index.json
```

Entries not published yet have `revision: null, published: false`; `aip zoo push`
writes the commit hash returned by the upload into `index.json`. Regenerating a
card for a retrained model (new SHA-256) resets the entry to unpublished.
"""
    root.mkdir(parents=True, exist_ok=True)
    write_text(root / "README.md", text)
