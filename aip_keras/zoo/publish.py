"""Publishing a zoo entry (or any Keras model) to the Hugging Face Hub, through a staging folder.

The staging folder holds exactly what is uploaded; a dry run writes it to disk
instead. After a real push the commit is pinned in the writable zoo's index.
"""

import pathlib
import shutil
import tempfile

import keras

from aip_keras import atomic
from aip_keras.zoo import cards, folders, hub, index

CARD_FILES = ("README.md", "run.json", cards.LOG_NAME, "history.csv")


def publish(model_or_folder, repo_id=None, dry_run=False, output=None, private=None,
            commit_message=None, zoo=None, update_index=True):
    """Uploads a zoo entry (or a Keras model) to the Hugging Face Hub.

    The files go through a staging folder holding exactly what is uploaded
    (the model files, README.md, run.json, the training log, `.eval_results/`);
    the upload is one `HfApi.upload_folder` commit that also removes stale files
    from the repo. For an index entry the returned commit hash is written back
    into the writable zoo's `index.json` as its pinned revision (`published: true`).

    The token comes from the environment (`HF_TOKEN`, or `hf auth login`'s
    stored token) and never appears in output or errors.

    Args:
        model_or_folder: a zoo entry name, an entry folder, or a `keras.Model`
            (uploaded with a minimal card).
        repo_id: the Hub repo; default: the entry's (and it must match the card).
        dry_run: upload nothing: write the staging folder to `output` instead.
        output: the dry-run folder (default `runs/zoo-push/<name>`), replaced atomically.
        private: create the repo private.
        commit_message: default `"Upload <name> (aip_keras <version>)"`.
        zoo: the zoo folder.
        update_index: write the pinned revision into the index after a real push.

    Returns:
        A dict: `repo_id`, `files`, `dry_run`, `folder` (the dry-run folder),
        `create_repo` and `upload_folder` (the keyword arguments of the calls
        made, or that would be made), and `revision` (the commit, after a push).
    """
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
            entry = index.read_index(zoo)["entries"].get(name)
            if entry is not None and index.entry_folder(name, entry, zoo).resolve() != path.resolve():
                entry = None  # a folder of the same name elsewhere: not the index entry
        else:
            name, _, entry = index.resolve(text, zoo)
            if entry is None:
                raise ValueError(f"{text!r} is neither a folder nor a zoo entry: pass zoo/<name> or an entry name.")
            path = index.entry_folder(name, entry, zoo)
        if entry is not None:
            repo_id = repo_id or entry["repo_id"]
            if repo_id != entry["repo_id"]:
                raise ValueError(f"zoo entry {name} is recorded for {entry['repo_id']}, not {repo_id}: regenerate "
                                 f"its card with aip zoo card --folder={path} --repo_id={repo_id} first.")
        repo_id = repo_id or cards.card_repo(path) or f"{index.DEFAULT_OWNER}/{name}"
    index.resolve(repo_id, zoo)  # validates the owner/name form
    message = commit_message or f"Upload {name} (aip_keras {hub.version()})"

    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f".zoo-push-{name}."))
    try:
        staged = workdir / name
        if isinstance(model_or_folder, keras.Model):
            stage_model(model_or_folder, staged, repo_id)
        else:
            stage_folder(path, staged, entry, name)
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
        result["revision"] = hub.upload(create_kwargs, upload_kwargs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    upload_kwargs["folder_path"] = None  # the staging folder is gone
    if entry is not None and update_index:
        index.update_entry(name, {"revision": result["revision"], "published": True}, zoo, entry=entry)
        cards.write_readme(zoo)
    return result


def stage_folder(path, staged, entry, name):
    """Copies what goes to the Hub from an entry folder into `staged`, after checking files, card and loading."""
    missing = [f for f in (*index.MODEL_FILES, "README.md") if not (path / f).is_file()]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}: save the model with model.save(folder, zipped=False) "
                         f"and write its card with aip zoo card --folder={path}.")
    if entry is not None:
        index.verify_files(path, entry, name)
    cards.check_card(path / "README.md")
    staged.mkdir(parents=True)
    for filename in (*index.MODEL_FILES, *CARD_FILES):
        if (path / filename).is_file():
            shutil.copy2(path / filename, staged / filename)
    for sub, pattern in ((".eval_results", "*.yaml"), ("assets", "**/*")):
        for source in sorted((path / sub).glob(pattern)):
            if source.is_file():
                target = staged / source.relative_to(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    folders.load_folder(staged, what=f"zoo entry {name}")  # what is uploaded loads in safe mode


def stage_model(model, staged, repo_id):
    """Saves a `keras.Model` with a minimal card into `staged`."""
    from huggingface_hub import ModelCardData

    model.save(staged, zipped=False)
    config = folders.read_config(staged, f"model {model.name}")
    usage = cards.keras_usage(repo_id, folders.requires(config), folders.custom_objects(config))
    data = ModelCardData(library_name="keras", tags=["keras", "aip-keras"])
    (staged / "README.md").write_text(
        f"---\n{data.to_yaml()}\n---\n\n# {repo_id}\n\nA Keras 3 model uploaded with aip_keras.\n\n{usage}\n"
    )
    folders.load_folder(staged, what=f"model {model.name}")
