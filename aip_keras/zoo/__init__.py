"""The model zoo: teachers and students of this project, on the Hugging Face Hub.

Each entry is a folder `<zoo>/<name>/` named after its recipe (e.g.
`fashion_mnist-teacher-small_cnn`, `cifar10-small_cnn-from-china`) holding exactly
what goes to its Hub repository:

- `config.json`, `model.weights.h5`, `metadata.json`: the model in Keras 3's format,
  as `model.save(folder, zipped=False)` and `model.save("hf://...")` write it;
- `README.md`: the model card (front matter for the Hub: library_name, license,
  tags, datasets, base_model, model-index with the measured accuracy), saying
  exactly what loading the model needs (plain Keras, or `import aip_keras` first);
- `.eval_results/<dataset>.yaml`: the same accuracy in the Hub's eval-results format;
- `run.json` (the run's config and metrics) and `training_log.txt`.

`index.json` lists the entries with their Hub repo, pinned revision, the SHA-256
of the model files and what loading needs (`requires`).

The package, bottom to top:

- `index`: where entries live (the writable zoo: `$AIP_ZOO_DIR`, a checkout's
  `zoo/`, or the cache; the read-only bundled zoo of an installed wheel), the
  merged index, names and repo ids;
- `folders`: a Keras model folder: safe loading, custom objects, `requires`, input spec;
- `cards`: model cards, eval-results YAML, training logs, the zoo README;
- `hub`: the Hugging Face cache and Hub: `load`, `pull`, uploads;
- `entries`: `write_entry` (what `aip zoo card` runs);
- `publish`: `publish` (what `aip zoo push` runs).

`load` looks in the zoo's folders, then the Hugging Face cache, then the Hub
(see `aip_keras.zoo.hub`). Every model loads with Keras' `safe_mode=True`; custom
objects that are not registered Keras / aip_keras classes are refused, and the
model files must match the SHA-256 sums recorded in the index. Pulls and pushes
go through a temporary folder and an atomic move, and tokens are never printed.

Example:

>>> from aip_keras import zoo
>>> names = [entry["name"] for entry in zoo.list()]
>>> all(isinstance(n, str) for n in names)
True
"""

from aip_keras.zoo.cards import clean_log, model_card, write_readme
from aip_keras.zoo.entries import write_entry
from aip_keras.zoo.folders import load_folder, requires
from aip_keras.zoo.hub import Loaded, load, pull
from aip_keras.zoo.index import bundled_dir, info, list, read_index, zoo_dir  # noqa: A004 - the zoo's verb
from aip_keras.zoo.publish import publish

__all__ = [
    "Loaded",
    "bundled_dir",
    "clean_log",
    "info",
    "list",
    "load",
    "load_folder",
    "model_card",
    "publish",
    "pull",
    "read_index",
    "requires",
    "write_entry",
    "write_readme",
    "zoo_dir",
]
