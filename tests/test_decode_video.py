"""Tests for aip_keras.decode.video: a video file -> uint8 frames."""
import numpy as np
import pytest

from aip_keras.decode.video import load_video


def test_real_video_file(shared_data):
    frames = load_video(shared_data / "videos" / "car-detection.mp4", max_side=64, max_frames=30)
    assert frames.shape == (30, 64, 114, 3) and frames.dtype == np.uint8


def test_video_bad_inputs_are_one_line(tmp_path):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    for call, fragment in (
        (lambda: load_video(not_video), "cannot decode video"),
        (lambda: load_video(tmp_path / "missing.mp4"), "does not exist"),
    ):
        with pytest.raises(ValueError) as excinfo:
            call()
        assert fragment in str(excinfo.value) and "\n" not in str(excinfo.value), str(excinfo.value)
