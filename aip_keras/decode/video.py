"""Video decoding: a video file -> uint8 frames, decoded once (ffmpeg through imageio).

Used by `aip_keras.sources.video.SingleVideoSource`.
"""

import pathlib

import numpy as np
from PIL import Image

from aip_keras.utils import first_line


def load_video(path, max_side=256, max_frames=None):
    """Decodes a video file once into uint8 frames `(N, H, W, 3)`, scaled so the short side <= `max_side`.

    Uses ffmpeg through imageio (the `imageio-ffmpeg` wheel carries the binary).

    Raises:
        ValueError: one line for a missing, unreadable or non-video file, or zero-size frames.
    """
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise ValueError('video files need imageio and imageio-ffmpeg: pip install "aip_keras[video]".') from None

    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise ValueError(f"video file {path} does not exist: pass the path of a video (e.g. an .mp4).")
    frames = []
    try:
        with imageio.get_reader(str(path), format="ffmpeg") as reader:
            for frame in reader:
                frame = np.asarray(frame)
                if frame.ndim != 3 or min(frame.shape[:2]) < 1:
                    raise ValueError(f"video {path} has zero-size frames {frame.shape}: pass a real video.")
                if max_side and min(frame.shape[:2]) > max_side:
                    scale = max_side / min(frame.shape[:2])
                    size = (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale)))
                    frame = np.asarray(Image.fromarray(frame[..., :3]).resize(size, Image.BILINEAR))
                frames.append(frame[..., :3])
                if max_frames and len(frames) >= max_frames:
                    break
    except ValueError:
        raise
    except Exception as error:  # imageio/ffmpeg raise OSError, RuntimeError, IndexError for bad files
        raise ValueError(f"cannot decode video {path} ({first_line(error, limit=200)}): "
                         "pass a video file ffmpeg can read (mp4, webm, avi, ...).") from None
    if not frames:
        raise ValueError(f"video {path} has no frames: pass a video with at least one clip of frames.")
    return np.stack(frames)
