"""Making a zoo entry: a trained model's folder + its run.json -> card files and an index entry.

`write_entry` is what `aip zoo card` runs. It writes only into the writable zoo
(`index.zoo_dir()`), records in the index what loading the model needs
(`requires`, read from its config), and never lets a path of the training
machine into the entry's files (see `cards.portable_run`).
"""

import json
import pathlib
import shutil

import keras

from aip_keras import atomic
from aip_keras.zoo import cards, folders, index

DEFAULT_LICENSE = "apache-2.0"


def write_entry(
    folder,
    kind=None,
    repo_id=None,
    base_model=None,
    log=None,
    from_run=None,
    license=DEFAULT_LICENSE,  # noqa: A002 - the model card's field name
    owner=index.DEFAULT_OWNER,
    tags=(),
    zoo=None,
    update_index=True,
    source_note=None,
):
    """Writes a zoo entry's card files from its `run.json` and adds it to the index.

    Writes `README.md` (model card), `.eval_results/<dataset>.yaml` and, from
    `log`, `training_log.txt` (epoch summaries only). Every number comes from the
    folder's `run.json`, which is rewritten without the training machine's paths
    (an absolute path becomes its file name, a zoo entry's folder `zoo:<name>`).
    The model must load in safe mode.

    Args:
        folder: the entry folder, `<zoo>/<recipe name>`, holding the model in
            Keras' layout and `run.json` (from `aip train-teacher
            --output=zoo/<name>`), or to be created from `from_run`.
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
        zoo: the zoo folder whose index is updated (default: the writable zoo).
        update_index: add or refresh the entry in `index.json` and `README.md`.
        source_note: where a student's source file came from (its licence, how
            it was made), kept in run.json as `source_note` and shown on the card.

    Returns:
        The index entry (a dict).
    """
    folder = pathlib.Path(folder)
    name = folder.name
    root = index.zoo_dir(zoo)
    relative = name
    if update_index:
        try:
            relative = str(folder.resolve().relative_to(root.resolve()))
        except ValueError:
            raise ValueError(f"zoo entry {folder} is not inside the zoo folder {root}: "
                             f"create it as {root}/{name} (or pass update_index=False).") from None
    if from_run is not None:
        import_run(pathlib.Path(from_run), folder)
        if log is None and (pathlib.Path(from_run) / "history.csv").is_file():
            log = pathlib.Path(from_run) / "history.csv"
    run_path = folder / "run.json"
    if not run_path.is_file():
        raise ValueError(f"zoo entry {folder} has no run.json: write it with aip train-teacher --output={folder} "
                         "or pass --from_run=<aip distill output folder>.")
    merged = index.read_index(zoo)
    run = json.loads(run_path.read_text())
    if source_note:
        run["source_note"] = source_note
    clean = cards.portable_run(run, entry_names=set(merged["entries"]) | {name})
    if clean != json.loads(run_path.read_text()):
        atomic.write_json(run_path, clean)
    run = clean
    kind = kind or ("student" if "student_accuracy" in run else "teacher")
    if kind not in ("teacher", "student"):
        raise ValueError(f"kind must be 'teacher' or 'student', got {kind!r}.")
    needed = ("test_accuracy", "num_test_examples") if kind == "teacher" else ("student_accuracy", "teacher_accuracy")
    missing = [key for key in needed if key not in run]
    if missing:
        raise ValueError(f"{run_path} lacks {missing} for a {kind} card: pass the run.json of a finished "
                         f"{'aip train-teacher' if kind == 'teacher' else 'aip distill'} run.")
    model = folders.load_folder(folder, what=f"zoo entry {name}")
    model_config = folders.read_config(folder, f"zoo entry {name}")
    repo_id = repo_id or f"{owner}/{name}"
    config = run.get("config", {})
    if kind == "student" and base_model is None:
        base_model = teacher_repo(config.get("teacher", ""), zoo)
    dataset = config.get("data") if kind == "teacher" else config.get("eval")
    hf_dataset, dataset_name = cards.hf_dataset(dataset)
    accuracy = run["test_accuracy"] if kind == "teacher" else run["student_accuracy"]
    spec = folders.spec_dict(model)
    requires = folders.requires(model_config)

    if log is not None:
        log = pathlib.Path(log)
        if not log.is_file():
            raise ValueError(f"training log {log} does not exist: pass the file the run's output went to.")
        text = log.read_text(errors="replace")
        text = text if log.suffix == ".csv" else cards.clean_log(text, source=log.name)
        cards.write_text(folder / cards.LOG_NAME, text)
    eval_name = f"{cards.slug(dataset)}.yaml"
    for old in (folder / ".eval_results").glob("*.yaml"):
        if old.name != eval_name:
            old.unlink()
    num_test = cards.num_examples(run, kind)
    cards.write_text(folder / ".eval_results" / eval_name,
                     cards.eval_results_yaml(hf_dataset, accuracy, num_test, dataset_name))
    details = dict(name=name, kind=kind, repo_id=repo_id, base_model=base_model, license=license,
                   dataset=dataset, hf_dataset=hf_dataset, dataset_name=dataset_name, accuracy=accuracy,
                   spec=spec, tags=tags, has_log=(folder / cards.LOG_NAME).is_file(), zoo_root=root,
                   num_classes=int(model.output_shape[-1]), requires=requires,
                   custom_objects=folders.custom_objects(model_config))
    cards.write_text(folder / "README.md", cards.model_card(run, details))

    hashes = index.file_hashes(folder)
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
        "num_test_examples": num_test,
        "num_classes": int(model.output_shape[-1]),
        "input_spec": spec,
        "license": license,
        "requires": requires,
        "sha256": hashes,
    }
    if kind == "student":
        entry.update(teacher_accuracy=run["teacher_accuracy"], agreement=run.get("agreement"),
                     source=config.get("source"), architecture=config.get("student"))
        if run.get("source_note"):
            entry["source_note"] = run["source_note"]
    else:
        entry.update(architecture=config.get("arch"))
    if update_index:
        entry["folder"] = relative
        own = index.read_folder_index(root)
        old = own["entries"].get(name) or merged["entries"].get(name) or {}
        if old.get("sha256") == hashes and old.get("repo_id") == repo_id:  # same model: keep its pin
            entry["revision"], entry["published"] = old.get("revision"), bool(old.get("published"))
        own["entries"][name] = entry
        index.write_index(own, zoo)
        cards.write_readme(zoo)
    return entry


def import_run(run_dir, folder):
    """Creates `folder` from an `aip distill` output folder (atomically)."""
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


def teacher_repo(teacher, zoo=None):
    """The Hub repo of a distillation's teacher, when it is a zoo entry (name or folder) or an `hf://` repo."""
    teacher = str(teacher)
    entries = index.read_index(zoo)["entries"]
    if teacher.startswith("zoo:"):
        entry = entries.get(teacher[4:])
        return entry["repo_id"] if entry else None
    if teacher.startswith("hf://"):
        return teacher[5:].strip("/")
    if teacher.startswith("kerashub:hf://"):
        return teacher[len("kerashub:hf://"):].strip("/")
    name = index.find_by_folder(teacher, zoo)
    return entries[name]["repo_id"] if name else None
