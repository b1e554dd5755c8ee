"""Zoo models from the Hugging Face Hub: the cache, snapshot downloads, `load` / `pull`, and uploads.

`load(name_or_repo_id)` looks in this order (first hit wins):

1. the entry's folder in the zoo (`index.zoo_dir()` or the bundled zoo), unless
   another `revision` than the index's is asked for;
2. the Hugging Face cache (`$HF_HUB_CACHE`, default `$HF_HOME/hub`), at the pinned
   revision (or `main` for an entry not published yet);
3. the Hub itself (skipped when `HF_HUB_OFFLINE=1` or the Hub is unreachable).

Files must match the SHA-256 pins of the index, and models load in Keras' safe
mode. huggingface_hub is imported only when the Hub or its cache is used.
"""

import os
import pathlib
import re
import shutil

import aip_keras
from aip_keras import atomic
from aip_keras.utils import first_line, hub_offline
from aip_keras.zoo import cards, folders, index

TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{8,}")


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

    Looks in the zoo's folders, then the Hugging Face cache, then the Hub (see
    the module docstring); works offline from the cache with `HF_HUB_OFFLINE=1`.

    Args:
        name_or_repo_id: an entry name (`aip zoo list`), `zoo:<name>`, a Hub repo
            id `owner/name` or `hf://owner/name`.
        revision: a Hub revision (commit hash, tag or branch). Default: the
            revision pinned in the index (`main` for repos outside it, or entries
            not published yet).
        safe_mode: Keras' safe mode (no code from `Lambda` layers). Keep it True.
        zoo: the zoo folder (default: the writable zoo merged with the bundled one).
        prefer_local: use the entry's folder in the zoo when present.

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
    name, repo_id, entry = index.resolve(name_or_repo_id, zoo)
    pinned = entry.get("revision") if entry else None
    wanted = revision or pinned
    local = index.entry_folder(name, entry, zoo) if entry else None
    has_folder = local is not None and (local / "config.json").is_file()
    if prefer_local and has_folder and revision in (None, pinned):
        folder, source = local, "local"
    else:
        what = None
        if entry is not None and not entry.get("published") and revision is None:
            where = f" (its local folder is {local})" if has_folder else f" (and not at {local})" if local else ""
            what = f"zoo entry {name!r} is not published yet{where}"
        folder, source = snapshot(repo_id, wanted, not_published=what)
    what = name or repo_id
    if entry is not None and revision in (None, pinned):
        index.verify_files(folder, entry, what)
    model = folders.load_folder(folder, safe_mode=safe_mode, what=f"zoo model {what}")
    spec_dict = (entry or {}).get("input_spec") or cards.card_metadata(folder).get("input_spec")
    spec = folders.input_spec(spec_dict, model)
    return Loaded(
        model, spec, sample_rate=(spec_dict or {}).get("sample_rate"), folder=pathlib.Path(folder),
        source=source, repo_id=repo_id, revision=wanted, entry=entry, name=name,
    )


def pull(name_or_repo_id, revision=None, output=None, zoo=None):
    """Downloads a zoo model into the Hugging Face cache (and `output`), checked.

    Unlike `load`, this ignores the zoo's own folders: it fetches the published
    revision (cache first, then the Hub), checks the files against the index and
    that the model loads in safe mode.

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


def hf_cache_dir():
    """The Hugging Face hub cache: `$HF_HUB_CACHE`, `$HF_HOME/hub`, or huggingface_hub's default."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def snapshot(repo_id, revision, not_published=None):
    """`(folder, "cache" or "hub")` of a Hub repo at `revision`: the cache first, then the Hub."""
    import huggingface_hub
    from huggingface_hub import errors

    kwargs = dict(repo_id=repo_id, revision=revision, cache_dir=hf_cache_dir(),
                  library_name="aip_keras", library_version=version())
    at = f"{repo_id}@{revision}" if revision else repo_id
    try:
        return huggingface_hub.snapshot_download(local_files_only=True, **kwargs), "cache"
    except (errors.LocalEntryNotFoundError, errors.IncompleteSnapshotError, FileNotFoundError, OSError):
        pass
    if not_published:
        raise ValueError(
            f"{not_published} and {at} is not in the Hugging Face cache ({hf_cache_dir()}): train or copy the "
            "entry's folder into the zoo, or publish it with aip zoo push."
        )
    if hub_offline():
        raise ValueError(
            f"zoo model {at} is not in the Hugging Face cache ({hf_cache_dir()}) and the Hub cannot be reached "
            "(HF_HUB_OFFLINE or no network): run aip zoo pull on a machine with network and copy the cache."
        )
    try:
        return huggingface_hub.snapshot_download(**kwargs), "hub"
    except Exception as error:
        raise ValueError(
            f"zoo model {at} could not be downloaded ({scrub(first_line(error))}): check the repo id, "
            "the revision and HF_TOKEN for private repos."
        ) from None


def upload(create_kwargs, upload_kwargs):
    """Creates the Hub repo and uploads a folder in one commit; returns the commit hash. Never shows the token."""
    import huggingface_hub

    token = huggingface_hub.get_token()
    if not token:
        raise ValueError("no Hugging Face token: set HF_TOKEN (a write token) or run hf auth login, "
                         "or use --dry_run to only write the folder.")
    try:
        api = huggingface_hub.HfApi(token=token, library_name="aip_keras", library_version=version())
        repo = api.create_repo(**create_kwargs)
        upload_kwargs["repo_id"] = create_kwargs["repo_id"] = getattr(repo, "repo_id", None) or create_kwargs["repo_id"]
        commit = api.upload_folder(**upload_kwargs)
    except Exception as error:  # never chain: the original may carry request details
        raise ValueError(
            f"publishing to {create_kwargs['repo_id']} failed ({scrub(first_line(error), token)}): "
            "check the network, the repo id and that HF_TOKEN has write access."
        ) from None
    return commit.oid


def scrub(text, token=None):
    """`text` without the token (or anything shaped like a Hugging Face token)."""
    for secret in {token, os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")}:
        if secret:
            text = text.replace(secret, "***")
    return TOKEN_PATTERN.sub("hf_***", text)


def version():
    """aip_keras' version, as the Hub's library_version and in commit messages."""
    return aip_keras.__version__
