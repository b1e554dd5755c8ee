"""Write files and folders so that a failure never leaves a partial result."""

import contextlib
import json
import os
import pathlib
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; moves it into place on success.

    Works for files and folders (whatever the body writes at the yielded path).
    On an exception the temporary path is removed and `path` is untouched.

    Example:

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp = workdir / path.name
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"nothing was written for {path}")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def write_json(path, data):
    """Atomically writes `data` as indented JSON."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


def save_model(model, path):
    """Atomically saves a Keras model to `.keras`, or to a folder otherwise.

    A folder gets Keras' own unzipped layout (config.json, model.weights.h5,
    metadata.json), which is what `model.save("hf://...")` uploads.
    """
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".keras":
            model.save(tmp)
        else:
            model.save(tmp, zipped=False)


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pathlib.Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
