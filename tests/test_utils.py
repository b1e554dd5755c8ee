"""The bottom layer's helpers: error lines, hashes, seeds, environment flags, network checks, the cache."""

import hashlib

import numpy as np
import pytest

from aip_keras import utils


def test_first_line_and_one_line():
    assert utils.first_line(ValueError("bad value\nmore")) == "ValueError: bad value"
    assert utils.first_line(KeyError()) == "KeyError"
    assert utils.first_line("x" * 300, limit=10) == "xxxxxxx..."
    assert utils.one_line("a\n  b\tc") == "a b c"


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00" * (3 << 20) + b"end")
    assert utils.sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_stateless_seed_forms():
    assert utils.stateless_seed(3, 7).numpy().tolist() == [3, 7]
    assert utils.stateless_seed(np.int64(3), 7).numpy().tolist() == [3, 7]
    assert utils.stateless_seed(np.array([1, 2]), 7).numpy().tolist() == [1, 2]


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("ON", True), ("0", False), ("", False)])
def test_env_flag(monkeypatch, value, expected):
    monkeypatch.setenv("AIP_TEST_FLAG", value)
    assert utils.env_flag("AIP_TEST_FLAG") is expected


def test_offline_switches(monkeypatch):
    monkeypatch.setenv("AIP_OFFLINE", "1")
    assert utils.network_available("https://example.com") is False
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert utils.hub_offline() is True


def test_cache_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "new" / "cache"))
    assert utils.cache_dir() == tmp_path / "new" / "cache"
    assert utils.cache_dir().is_dir()
