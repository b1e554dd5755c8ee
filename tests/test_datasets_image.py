"""Tests for aip_keras.datasets.image: CIFAR-10 from the shared JPEG tar, Fashion-MNIST IDX, folders, tfds."""
import gzip
import shutil
import time

import numpy as np
import pytest
from helpers import fresh_data_cache
from PIL import Image

from aip_keras import datasets
from aip_keras.utils import network_available

FASHION_DEBIAN = datasets.DEBIAN_FASHION_MNIST


@pytest.fixture(scope="session")
def cifar_cache(tmp_path_factory, shared_data):
    """Decodes the CIFAR-10 tar once per session into a fresh cache (about 8 s)."""
    with fresh_data_cache(tmp_path_factory, shared_data) as cache:
        start = time.time()
        test = datasets.load("cifar10", split="test")
        first = time.time() - start
    return cache, test, first


@pytest.fixture
def use_cache(cifar_cache, shared_data, monkeypatch):
    monkeypatch.setenv("AIP_CACHE_DIR", str(cifar_cache[0]))
    monkeypatch.setenv("AIP_SHARED_DATA", str(shared_data))
    return cifar_cache[0]


# --------------------------------------------------------------------------- CIFAR-10


def test_cifar10_test_split(cifar_cache, use_cache):
    _, test, first = cifar_cache
    print(f"CIFAR-10 first load (decode both splits): {first:.1f} s")
    assert (test.name, test.split, test.num_examples) == ("cifar10", "test", 10_000)
    assert test.num_classes == 10 and test.class_names == datasets.CIFAR10_CLASSES
    assert test.image_shape == (32, 32, 3)
    x, y = test.arrays()
    assert x.shape == (10_000, 32, 32, 3) and x.dtype == np.float32
    assert y.dtype == np.int32 and 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
    assert np.bincount(y).tolist() == [1000] * 10  # balanced
    start = time.time()
    again = datasets.load("cifar10", split="test")
    assert time.time() - start < 2.0  # cached .npy
    np.testing.assert_array_equal(again.arrays(limit=50, seed=3)[1], test.arrays(limit=50, seed=3)[1])


def test_cifar10_dataset_batches_and_random_limit(use_cache):
    test = datasets.load("cifar10", split="test")
    ds = test.dataset(64, limit=300, seed=0)
    assert int(ds.cardinality()) == 5
    batches = list(ds)
    x, y = batches[0]
    assert x.shape == (64, 32, 32, 3) and x.dtype.name == "float32" and y.dtype.name == "int32"
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert len(labels) == 300
    # The test split is sorted by class: the first 300 would be airplanes only.
    assert len(np.unique(labels)) == 10 and np.bincount(labels).max() < 60
    other = np.concatenate([b[1].numpy() for b in test.dataset(64, limit=300, seed=1)])
    assert not np.array_equal(labels, other)
    same = np.concatenate([b[1].numpy() for b in test.dataset(64, limit=300, seed=0)])
    np.testing.assert_array_equal(labels, same)


def test_cifar10_shuffle_is_seeded(use_cache):
    test = datasets.load("cifar10", split="test")
    first = next(iter(test.dataset(32, shuffle=True, seed=5)))[1].numpy()
    again = next(iter(test.dataset(32, shuffle=True, seed=5)))[1].numpy()
    np.testing.assert_array_equal(first, again)
    assert len(np.unique(first)) > 3


def test_cifar10_train_and_split_validation(use_cache):
    train = datasets.load("cifar10", split="train")
    assert train.num_examples == 50_000
    fit, val = datasets.split_validation(train, fraction=0.1, seed=0)
    assert (fit.num_examples, val.num_examples) == (45_000, 5_000)
    assert (fit.split, val.split) == ("train-fit", "train-val")
    assert not set(fit.indices) & set(val.indices)
    fit2, val2 = datasets.split_validation(train, fraction=0.1, seed=0)
    np.testing.assert_array_equal(val.indices, val2.indices)
    _, val3 = datasets.split_validation(train, fraction=0.1, seed=1)
    assert not np.array_equal(val.indices, val3.indices)
    y = val.arrays()[1]
    assert len(y) == 5_000 and np.bincount(y, minlength=10).min() > 400
    assert int(fit.dataset(1000).cardinality()) == 45


def test_cifar10_image_size_resizes(use_cache):
    test = datasets.load("cifar10", split="test", image_size=(16, 16))
    assert test.image_shape == (16, 16, 3)
    x, _ = next(iter(test.dataset(8)))
    assert x.shape == (8, 16, 16, 3) and 0.0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 1.0


def test_cifar10_missing_tar_names_the_place(tmp_path, monkeypatch):
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "empty_cache"))
    monkeypatch.setenv("AIP_OFFLINE", "1")
    start = time.time()
    with pytest.raises(ValueError, match=r"cifar10-jpeg.tar.gz is not in .*nowhere.*no network") as info:
        datasets.load("cifar10", data_dir=tmp_path / "nowhere")
    assert time.time() - start < 15
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- Fashion-MNIST


@pytest.mark.skipif(not FASHION_DEBIAN.is_dir(), reason="Debian dataset-fashion-mnist not installed")
def test_fashion_mnist_debian_both_splits():
    test = datasets.load("fashion_mnist", split="test")
    assert (test.num_examples, test.image_shape, test.num_classes) == (10_000, (28, 28, 1), 10)
    assert test.class_names[0] == "T-shirt/top" and test.class_names[9] == "Ankle boot"
    train = datasets.load("fashion_mnist", split="train")
    assert train.num_examples == 60_000
    x, y = train.arrays(limit=2000, seed=0)
    assert x.shape == (2000, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0 and len(np.unique(y)) == 10


def test_fashion_mnist_bundled_copy_matches_debian():
    bundled = datasets.load("fashion_mnist", split="test", data_dir=datasets.BUNDLED_FASHION_MNIST)
    x, y = bundled.arrays()
    assert x.shape == (10_000, 28, 28, 1) and np.bincount(y).tolist() == [1000] * 10
    assert (datasets.BUNDLED_FASHION_MNIST / "LICENSE").read_text().startswith("The MIT License")
    if FASHION_DEBIAN.is_dir():
        x2, y2 = datasets.load("fashion_mnist", split="test", data_dir=FASHION_DEBIAN).arrays()
        np.testing.assert_array_equal(y, y2)
        np.testing.assert_array_equal(x, x2)


def test_fashion_mnist_bundled_has_no_train_split():
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*dataset-fashion-mnist"):
        datasets.load("fashion_mnist", split="train", data_dir=datasets.BUNDLED_FASHION_MNIST)


def _copy_fashion(tmp_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(datasets.BUNDLED_FASHION_MNIST / name, tmp_path / name)
    return tmp_path


def test_truncated_idx_raises(tmp_path):
    folder = _copy_fashion(tmp_path)
    images = folder / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        datasets.load("fashion_mnist", data_dir=folder)
    images.write_bytes(images.read_bytes()[:1000])  # cut gzip stream
    with pytest.raises(ValueError, match="cannot read IDX file"):
        datasets.load("fashion_mnist", data_dir=folder)


def test_bad_magic_and_mismatched_labels_raise(tmp_path):
    folder = _copy_fashion(tmp_path)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    labels.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + bytes(raw[4:])))  # float dtype code
    with pytest.raises(ValueError, match="bad magic number"):
        datasets.load("fashion_mnist", data_dir=folder)
    raw[4:8] = (9000).to_bytes(4, "big")
    labels.write_bytes(gzip.compress(bytes(raw[:8 + 9000])))
    with pytest.raises(ValueError, match="10000 images but .* 9000 labels"):
        datasets.load("fashion_mnist", data_dir=folder)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read IDX file"):
        datasets.load("fashion_mnist", data_dir=folder)


# --------------------------------------------------------------------------- folders


def _make_folder(root, sizes=((12, 10),), modes=("RGB",)):
    rng = np.random.default_rng(0)
    for c, name in enumerate(["cat", "ant", "bee"]):
        (root / name).mkdir(parents=True)
        for i in range(4):
            h, w = sizes[i % len(sizes)]
            mode = modes[i % len(modes)]
            pixels = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
            image = Image.fromarray(pixels, "RGBA").convert(mode)
            image.save(root / name / f"{i}.png")
    return root


def test_folder_loader(tmp_path):
    root = _make_folder(tmp_path / "set")
    data = datasets.load(str(root))
    assert data.class_names == ("ant", "bee", "cat")  # sorted
    assert (data.num_examples, data.num_classes, data.image_shape) == (12, 3, (12, 10, 3))
    x, y = data.arrays()
    assert x.shape == (12, 12, 10, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert np.bincount(y).tolist() == [4, 4, 4] and 0.0 <= x.min() and x.max() <= 1.0
    expected = np.asarray(Image.open(root / "ant" / "0.png").convert("RGB"), np.float32) / 255
    np.testing.assert_allclose(x[0], expected, atol=1e-6)
    batches = list(data.dataset(5, shuffle=True, seed=0))
    assert [b[0].shape[0] for b in batches] == [5, 5, 2]


def test_folder_mixed_sizes_and_modes(tmp_path):
    root = _make_folder(tmp_path / "set", sizes=((12, 10), (20, 16)), modes=("RGB", "L", "RGBA"))
    with pytest.raises(ValueError, match="different sizes.*image_size"):
        datasets.load(root)
    data = datasets.load(root, image_size=(8, 8))
    assert data.image_shape == (8, 8, 3)
    x, _ = data.arrays()
    assert x.shape == (12, 8, 8, 3) and 0.0 <= x.min() and x.max() <= 1.0
    grey = _make_folder(tmp_path / "grey", modes=("L",))
    assert datasets.load(grey).image_shape == (12, 10, 1)
    assert datasets.load(grey).arrays()[0].shape == (12, 12, 10, 1)


def test_folder_with_split_subfolders(tmp_path):
    _make_folder(tmp_path / "set" / "train")
    _make_folder(tmp_path / "set" / "test")
    assert datasets.load(tmp_path / "set", split="test").name == str(tmp_path / "set" / "test")
    with pytest.raises(ValueError, match="split sub-folders.*'validation'"):
        datasets.load(tmp_path / "set", split="validation")


def test_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is empty"):
        datasets.load(tmp_path / "empty")
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "flat" / "a.png")
    with pytest.raises(ValueError, match="no class sub-folders"):
        datasets.load(tmp_path / "flat")
    (tmp_path / "noimg" / "a").mkdir(parents=True)
    (tmp_path / "noimg" / "a" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="no .* images \\(only 1 other files\\)"):
        datasets.load(tmp_path / "noimg")
    root = _make_folder(tmp_path / "bad")
    (root / "ant" / "notes.txt").write_text("x")
    (root / "ant" / ".DS_Store").write_text("x")
    with pytest.warns(UserWarning, match="1 files .* left out"):
        assert datasets.load(root).num_examples == 12
    (root / "ant" / "notes.txt").unlink()
    (root / "ant" / "broken.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read image .*broken.png"):
        datasets.load(root)


# --------------------------------------------------------------------------- tfds


def test_tfds_offline_fails_fast(tmp_path):
    if network_available():
        pytest.skip("this machine has network: tfds would really download")
    start = time.time()
    with pytest.raises(ValueError) as info:
        datasets.load("tfds:mnist", split="test", data_dir=tmp_path)
    elapsed = time.time() - start
    assert elapsed < 15, elapsed
    message = str(info.value)
    assert message.startswith(f"tfds dataset mnist is not in {tmp_path} and cannot be downloaded (no network)")
    assert "pass a local folder" in message and "\n" not in message


def test_tfds_forced_offline_and_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("AIP_OFFLINE", "1")
    with pytest.raises(ValueError, match="cannot be downloaded"):
        datasets.load("tfds:cifar10", data_dir=tmp_path)
    with pytest.raises(ValueError, match="tfds has no dataset 'no_such_set'"):
        datasets.load("tfds:no_such_set")


def test_tfds_prepared_local_dataset(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    builder = _tiny_builder_class(tfds)(data_dir=str(tmp_path))
    builder.download_and_prepare()
    data = datasets.load("tfds:aip_tiny_images", split="test", data_dir=tmp_path)
    assert (data.num_examples, data.num_classes, data.class_names) == (12, 3, ("a", "b", "c"))
    assert data.image_shape == (8, 8, 3)
    x, y = data.arrays()
    assert x.shape == (12, 8, 8, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert np.bincount(y).tolist() == [4, 4, 4]
    sub = data.arrays(limit=5, seed=0)[1]
    assert len(sub) == 5
    train = datasets.load("tfds:aip_tiny_images", split="train", data_dir=tmp_path)
    fit, val = datasets.split_validation(train, fraction=0.2, seed=0)
    assert (fit.num_examples, val.num_examples) == (24, 6)
    assert int(val.dataset(4).cardinality()) == 2
    assert sum(int(b[1].shape[0]) for b in fit.dataset(5, shuffle=True)) == 24
    with pytest.raises(ValueError, match="splits .* not 'validation'"):
        datasets.load("tfds:aip_tiny_images", split="validation", data_dir=tmp_path)


_TINY = {}


def _tiny_builder_class(tfds):
    """A real, prepared-offline tfds dataset (registered once per session)."""
    if "cls" not in _TINY:

        class AipTinyImages(tfds.core.GeneratorBasedBuilder):
            VERSION = tfds.core.Version("1.0.0")

            def _info(self):
                return tfds.core.DatasetInfo(
                    builder=self,
                    features=tfds.features.FeaturesDict({
                        "image": tfds.features.Image(shape=(8, 8, 3)),
                        "label": tfds.features.ClassLabel(names=["a", "b", "c"]),
                    }),
                )

            def _split_generators(self, dl_manager):
                return {"train": self._generate_examples(30), "test": self._generate_examples(12)}

            def _generate_examples(self, n):
                rng = np.random.default_rng(n)
                for i in range(n):
                    yield i, {"image": rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), "label": i % 3}

        _TINY["cls"] = AipTinyImages
    return _TINY["cls"]
