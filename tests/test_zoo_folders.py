"""aip_keras.zoo.folders: safe loading of a model folder, custom objects, and what loading needs."""
import json

import keras
import pytest
from zoo_fixtures import tiny_model

from aip_keras import atomic, zoo
from aip_keras.front_end import LogMel
from aip_keras.zoo import folders


def test_unknown_custom_objects_and_lambda_are_refused(tmp_path):
    folder = tmp_path / "m"
    atomic.save_model(tiny_model(), folder)
    config = json.loads((folder / "config.json").read_text())
    layer = config["config"]["layers"][-1]
    layer.update(module="evil_pkg.layers", class_name="Backdoor", registered_name="evil_pkg>Backdoor")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"custom objects .*\(evil_pkg>Backdoor\): refusing to load"):
        zoo.load_folder(folder)

    inputs = keras.Input((12, 12, 1))
    lam = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(
        inputs))))
    atomic.save_model(lam, tmp_path / "lambda")
    with pytest.raises(ValueError, match="Lambda layer"):
        zoo.load_folder(tmp_path / "lambda")


def test_requires_reads_the_custom_objects_of_the_config(tmp_path):
    atomic.save_model(tiny_model(), tmp_path / "plain")
    plain = folders.read_config(tmp_path / "plain", "plain")
    assert folders.custom_objects(plain) == [] and zoo.requires(plain) == ["keras"]

    inputs = keras.Input((16000,))
    x = LogMel(sample_rate=16000)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    atomic.save_model(keras.Model(inputs, keras.layers.Dense(3)(x)), tmp_path / "audio")
    audio = folders.read_config(tmp_path / "audio", "audio")
    assert folders.custom_objects(audio) == ["aip_keras>LogMel"] and zoo.requires(audio) == ["aip_keras"]
    assert zoo.load_folder(tmp_path / "audio").output_shape == (None, 3)
    assert folders.package_of("keras_hub>ResNetBackbone") == "keras_hub"
    assert folders.package_of("evil_pkg.layers.Backdoor") == "evil_pkg"
    with pytest.raises(ValueError, match="lacks config.json"):
        folders.read_config(tmp_path, "nothing")
