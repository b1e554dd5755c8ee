"""The one custom build step of aip_keras; all metadata (dependencies, extras, scripts) is in pyproject.toml."""

import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).parent
# What an installed aip_keras needs from zoo/ to work offline: the index (pinned revisions) and
# the teachers of the offline defaults (`aip distill`, `--modality=audio`, `--modality=video`).
# MANIFEST.in puts the same entries in the sdist, so a wheel built from the sdist has them too.
PACKAGED_ZOO = ("index.json", "fashion_mnist-teacher-small_cnn", "fsdd-teacher-audio_cnn",
                "cifar10_clips-teacher-video_cnn")


class BuildWithZoo(build_py):
    """build_py that also copies PACKAGED_ZOO into aip_keras/data/zoo (read-only, see aip_keras.zoo.index.bundled_dir)."""

    def run(self):
        super().run()
        target = pathlib.Path(self.build_lib) / "aip_keras" / "data" / "zoo"
        target.mkdir(parents=True, exist_ok=True)
        for name in PACKAGED_ZOO:
            source = HERE / "zoo" / name
            if not source.exists():
                raise FileNotFoundError(f"{source} is missing: build from a checkout or from the sdist (MANIFEST.in)")
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithZoo})
