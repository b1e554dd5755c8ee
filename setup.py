"""aip_keras: distil a Keras classifier into a fresh student from one image."""
import pathlib
import re

import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).parent
# What an installed aip_keras needs from zoo/ to work offline: the index (pinned revisions) and
# the teachers of the offline defaults (`aip distill`, `--modality=audio`, `--modality=video`).
PACKAGED_ZOO = ("index.json", "fashion_mnist-teacher-small_cnn", "fsdd-teacher-audio_cnn",
                "cifar10_clips-teacher-video_cnn")


class BuildWithZoo(build_py):
    """build_py that also copies PACKAGED_ZOO into aip_keras/data/zoo (see aip_keras.zoo.zoo_dir)."""

    def run(self):
        super().run()
        target = pathlib.Path(self.build_lib) / "aip_keras" / "data" / "zoo"
        target.mkdir(parents=True, exist_ok=True)
        for name in PACKAGED_ZOO:
            source = HERE / "zoo" / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target / name)
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "aip_keras" / "__init__.py").read_text()
).group(1)

setup(
    name="aip_keras",
    version=VERSION,
    description=(
        "The Augmented Image Prior in Keras 3: distil a classifier into a new "
        "network from augmented crops of a single image, audio clip or video."
    ),
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["aip_keras", "aip_keras.*"]),
    package_data={"aip_keras": ["data/**/*"]},
    include_package_data=True,
    install_requires=[
        "tensorflow>=2.18,<2.22",
        "keras>=3.10,<3.16",
        "keras-cv==0.9.*",
        "dm-tree",
        "keras-hub>=0.20,<0.33",
        "tensorflow-datasets==4.9.10",
        "importlib_resources",
        "tensorflow-io==0.37.1",
        "keras-tuner==1.4.8",
        "tensorboard",
        "scikit-learn",
        "scipy",
        "soundfile",  # audio decoding beyond 16-bit PCM WAV (aip_keras.sources.audio)
        "imageio",  # video decoding (aip_keras.sources.video), with the ffmpeg binary of:
        "imageio-ffmpeg",
        "huggingface-hub>=1.0,<3",
        "absl-py",
        "scikit-image",
        "matplotlib",
        "tqdm",
        "numpy",
        "pillow",
    ],
    extras_require={"test": ["pytest>=8", "pytest-timeout"]},
    entry_points={"console_scripts": ["aip=aip_keras.cli:run"]},
    cmdclass={"build_py": BuildWithZoo},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
