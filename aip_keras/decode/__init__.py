"""Decoding of files apart from the sources: an image, an audio clip or a video file -> arrays.

Modules: `image` (`load_image`: a path, PIL image, array or bundled photo name
-> uint8 RGB), `audio` (`load_clip`, `decode_audio`, `read_audio`, resampling
and down-mixing), `video` (`load_video`: a video file -> uint8 frames). The
single-datum sources (`aip_keras.sources`) and the labelled sets
(`aip_keras.datasets`) read files through these.
"""

from aip_keras.decode.audio import decode_audio, load_clip, read_audio
from aip_keras.decode.image import PHOTOS, load_image
from aip_keras.decode.video import load_video

__all__ = ["PHOTOS", "decode_audio", "load_clip", "load_image", "load_video", "read_audio"]
