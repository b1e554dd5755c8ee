"""Where zoo entries live, and their `index.json`: reading, merging, writing, naming.

Two zoo folders may hold entries, each with its own `index.json`:

- the **writable** zoo (`zoo_dir()`): `$AIP_ZOO_DIR` if set; else, in a source
  checkout, the repository's `zoo/` (so `aip zoo card --folder=zoo/<name>` keeps
  working for the project's developers); else `<aip_keras cache>/zoo`
  (`$AIP_CACHE_DIR/zoo`, default `~/.cache/aip_keras/zoo`). Every write goes here;
- the **bundled** zoo (`bundled_dir()`), read-only: the entries an installed
  wheel carries in `aip_keras/data/zoo` (setup.py copies them), or the
  repository's `zoo/` in a checkout when `$AIP_ZOO_DIR` points elsewhere.

Reading merges both (the writable entry wins on a name clash); nothing ever
writes into the bundled folder, so an installed package never changes its own
files in site-packages.

Example:

>>> from aip_keras.zoo import index
>>> sorted(index.read_index(zoo="/nonexistent"))
['entries', 'format']
"""

import json
import os
import pathlib

from aip_keras import atomic, utils

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]  # the aip_keras package folder
CHECKOUT_ZOO = PACKAGE_ROOT.parent / "zoo"  # the repository's zoo/, in a source checkout
BUNDLED_ZOO = PACKAGE_ROOT / "data" / "zoo"  # what setup.py's BuildWithZoo copies into a wheel
INSTALLED_MARKERS = ("site-packages", "dist-packages")
DEFAULT_OWNER = "aip-keras"
INDEX_NAME = "index.json"
INDEX_FORMAT = 1
MODEL_FILES = ("config.json", "metadata.json", "model.weights.h5")


def in_source_checkout():
    """Whether aip_keras runs from a source checkout: `zoo/index.json` beside the package, not in site-packages."""
    installed = any(part in INSTALLED_MARKERS for part in PACKAGE_ROOT.parts)
    return not installed and (CHECKOUT_ZOO / INDEX_NAME).is_file()


def zoo_dir(path=None):
    """The writable zoo folder: `path`, `$AIP_ZOO_DIR`, the checkout's `zoo/`, or `<cache>/zoo`.

    Never the installed package's own folder (see the module docstring).
    """
    if path:
        return pathlib.Path(path).expanduser()
    if os.environ.get("AIP_ZOO_DIR"):
        return pathlib.Path(os.environ["AIP_ZOO_DIR"]).expanduser()
    if in_source_checkout():
        return CHECKOUT_ZOO
    return utils.cache_dir() / "zoo"


def bundled_dir():
    """The read-only zoo shipped with aip_keras (`aip_keras/data/zoo`, or a checkout's `zoo/`); None if none."""
    if (BUNDLED_ZOO / INDEX_NAME).is_file():
        return BUNDLED_ZOO
    if in_source_checkout():
        return CHECKOUT_ZOO
    return None


def roots(zoo=None):
    """The zoo folders read, highest priority first: `[zoo]` when given, else the writable then the bundled one."""
    if zoo is not None:
        return [pathlib.Path(zoo).expanduser()]
    writable, bundled = zoo_dir(), bundled_dir()
    if bundled is None or bundled.resolve() == writable.resolve():
        return [writable]
    return [writable, bundled]


def read_folder_index(root):
    """The `index.json` of one zoo folder as `{"format": 1, "entries": {name: entry}}` (empty if absent)."""
    path = pathlib.Path(root) / INDEX_NAME
    if not path.is_file():
        return {"format": INDEX_FORMAT, "entries": {}}
    try:
        index = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"zoo index {path} is not valid JSON ({error}): restore it from git.") from None
    index.setdefault("entries", {})
    return index


def read_index(zoo=None):
    """The zoo's index `{"format": 1, "entries": {name: entry}}`.

    With `zoo=None` the bundled entries are merged under the writable ones;
    with a folder, that folder's index alone.
    """
    entries = {}
    for root in reversed(roots(zoo)):
        entries.update(read_folder_index(root)["entries"])
    return {"format": INDEX_FORMAT, "entries": entries}


def write_index(index, zoo=None):
    """Writes `index` (atomically) as the writable zoo's `index.json`."""
    atomic.write_json(zoo_dir(zoo) / INDEX_NAME, index)


def update_entry(name, changes, zoo=None, entry=None):
    """Updates one entry in the writable index (copying it there from the bundled one if needed)."""
    index = read_folder_index(zoo_dir(zoo))
    base = index["entries"].get(name) or entry or read_index(zoo)["entries"][name]
    index["entries"][name] = {**base, **changes}
    write_index(index, zoo)
    return index


def entry_folder(name, entry, zoo=None):
    """The folder of entry `name`: in the first zoo folder that has its files (the one listing it first)."""
    relative = entry.get("folder", name)
    candidates = roots(zoo)
    listing = [root for root in candidates if name in read_folder_index(root)["entries"]]
    ordered = listing[:1] + [root for root in candidates if root not in listing[:1]]
    for root in ordered:
        if (root / relative / "config.json").is_file():
            return root / relative
    return ordered[0] / relative


def list(zoo=None):  # noqa: A001 - the zoo's public verb
    """The zoo's entries, sorted by name.

    Each is the index entry (name, kind, repo_id, revision, published, accuracy,
    dataset, input_spec, requires, ...) plus `local`: whether its folder is here.
    """
    entries = []
    for name, entry in sorted(read_index(zoo)["entries"].items()):
        entries.append({**entry, "name": name, "local": (entry_folder(name, entry, zoo) / "config.json").is_file()})
    return entries


def info(name_or_repo_id, zoo=None):
    """The index entry of `name_or_repo_id` (an entry name, `owner/name` or `hf://owner/name`)."""
    name, _, entry = resolve(name_or_repo_id, zoo)
    if entry is None:
        known = ", ".join(sorted(read_index(zoo)["entries"])) or "none"
        raise ValueError(f"{name_or_repo_id!r} is not in the zoo index: use one of {known} (aip zoo list).")
    return {**entry, "name": name}


def resolve(name_or_repo_id, zoo=None):
    """`(entry name or None, repo_id, index entry or None)` of a name, `zoo:<name>`, `owner/name` or `hf://...`."""
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


def verify_files(folder, entry, what):
    """Raises a one-line ValueError unless the model files in `folder` match the entry's SHA-256 pins."""
    for filename, digest in sorted((entry.get("sha256") or {}).items()):
        path = pathlib.Path(folder) / filename
        actual = utils.sha256(path) if path.is_file() else "missing"
        if actual != digest:
            raise ValueError(
                f"zoo model {what}: {filename} in {folder} does not match the index ({actual[:12]} != "
                f"{digest[:12]}): re-download it (aip zoo pull), or rerun aip zoo card if the model was retrained."
            )


def file_hashes(folder):
    """`{file name: SHA-256}` of the model files of an entry folder (what the index pins)."""
    return {filename: utils.sha256(pathlib.Path(folder) / filename) for filename in MODEL_FILES}


def find_by_folder(path, zoo=None):
    """The entry name whose folder is `path` (same name, and the same folder if `path` exists); None if none."""
    path = pathlib.Path(path)
    for name, entry in read_index(zoo)["entries"].items():
        folder = entry_folder(name, entry, zoo)
        if path.name == folder.name and (not path.exists() or path.resolve() == folder.resolve()):
            return name
    return None

