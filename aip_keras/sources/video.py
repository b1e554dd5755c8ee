"""Single-datum video sources: fake clips of one image, or random windows of one real video.

Fake video from one image (the paper's recipe for Kinetics): per clip, a
random square crop of `initial_crop` x the image's short side; two random
resized-crop boxes inside it (area fraction U(min_area, max_area), log-uniform
aspect in [min_aspect, max_aspect]); each of the clip's `frames` frames is the
box linearly interpolated between the two (frame 0 = box 1, last frame =
box 2), resized to `clip_size`: a smooth pan/zoom "camera move" over the
photo. Colour jitter is drawn once per clip and applied to every frame.

One real video: the video is decoded once (`aip_keras.decode.video.load_video`: ffmpeg through imageio, frames
scaled to `max_side`), and each clip is a random window of `frames` frames
(every `stride`-th) with the same spatial augmentation (square crop, two
interpolated boxes, per-clip jitter) applied frame by frame.

Both are endless, stateless-seeded `tf.data` streams of float32 clips
`(frames, clip_size, clip_size, channels)` in [0, 1] (same seed, same
stream), batched to `(B, T, S, S, C)`.

Why not Keras layers for the boxes: Keras' random crop/zoom layers draw one
transform per frame; a clip needs one pair of boxes interpolated over its
frames, which `tf.image.crop_and_resize` does in one call.

    from aip_keras.sources import video
    clips = video.SingleImageClipSource("astronaut", clip_size=32, frames=8).dataset(16, seed=0)
    clips = video.SingleVideoSource("car-detection.mp4", clip_size=32, frames=8).dataset(16, seed=0)
"""

import math

import numpy as np
import tensorflow as tf

from aip_keras.decode.image import load_image
from aip_keras.decode.video import load_video
from aip_keras.sources import image_chain

DEFAULT_FRAMES = 8
DEFAULT_CLIP_SIZE = 32
_GREY = (0.299, 0.587, 0.114)


class ClipChain:
    """Turns one image (or a window of video frames) into one augmented clip.

    Args:
        clip_size: output side `S` of each frame.
        frames: frames per clip `T`.
        channels: 3 (RGB) or 1 (grey) output.
        initial_crop: side of the first square crop, fraction of the short side.
        min_area: smallest box area, as a fraction of the square.
        max_area: largest box area fraction.
        min_aspect: smallest box aspect (width / height), log-uniform.
        max_aspect: largest box aspect.
        brightness, contrast, saturation, hue: colour-jitter strengths (as
            `PatchChain`), drawn once per clip.
        jitter_p: probability that a clip is jittered.

    Example:

    >>> chain = ClipChain(clip_size=16, frames=4)
    >>> chain(load_image("astronaut"), seed=0).shape
    TensorShape([4, 16, 16, 3])
    """

    def __init__(self, clip_size=DEFAULT_CLIP_SIZE, frames=DEFAULT_FRAMES, channels=3, initial_crop=0.5,
                 min_area=1 / 500, max_area=1.0, min_aspect=3 / 4, max_aspect=4 / 3, brightness=0.4,
                 contrast=0.4, saturation=0.4, hue=0.1, jitter_p=0.5):
        if int(frames) < 1 or int(clip_size) < 1:
            raise ValueError(f"frames and clip_size must be >= 1, got {frames} and {clip_size}.")
        if not 0.0 < initial_crop <= 1.0:
            raise ValueError(f"initial_crop must be in (0, 1], got {initial_crop}.")
        if not 0.0 < min_area <= max_area <= 1.0:
            raise ValueError(f"need 0 < min_area <= max_area <= 1, got {min_area} and {max_area}.")
        if not 0.0 < min_aspect <= max_aspect:
            raise ValueError(f"need 0 < min_aspect <= max_aspect, got {min_aspect} and {max_aspect}.")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}.")
        self.clip_size, self.frames, self.channels = int(clip_size), int(frames), int(channels)
        self.initial_crop = float(initial_crop)
        self.min_area, self.max_area = float(min_area), float(max_area)
        self.min_aspect, self.max_aspect = float(min_aspect), float(max_aspect)
        # The jitter (and its parameter draw) is PatchChain's, applied to all frames of a clip.
        self._jitter = image_chain.PatchChain(patch_size=self.clip_size, brightness=brightness, contrast=contrast,
                                              saturation=saturation, hue=hue, jitter_p=jitter_p, rotation=0.0,
                                              shear=0.0)

    def get_config(self):
        j = self._jitter
        return {"clip_size": self.clip_size, "frames": self.frames, "channels": self.channels,
                "initial_crop": self.initial_crop, "min_area": self.min_area, "max_area": self.max_area,
                "min_aspect": self.min_aspect, "max_aspect": self.max_aspect, "brightness": j.brightness,
                "contrast": j.contrast, "saturation": j.saturation, "hue": j.hue, "jitter_p": j.jitter_p}

    def check_frame_size(self, height, width, what="image"):
        if min(height, width) < 1:
            raise ValueError(f"{what} has zero-size frames ({height}x{width}): pass a real image or video.")
        if math.floor(self.initial_crop * min(height, width)) < 2:
            raise ValueError(f"{what} is {height}x{width}: too small for clips (its initial_crop square has "
                             "under 2 px); use a larger image or video.")

    def sample_boxes(self, frame_shape, seed):
        """The clip's two boxes, normalised `(y1, x1, y2, x2)` in the frame, shape `(2, 4)`, and jitter params."""
        seed = image_chain.image_seed(seed)
        seed_box, seed_jitter = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        u = tf.random.stateless_uniform([2 + 2 * 4], seed_box, dtype=tf.float32)
        height = tf.cast(frame_shape[0], tf.float32)
        width = tf.cast(frame_shape[1], tf.float32)
        side = tf.maximum(tf.floor(self.initial_crop * tf.minimum(height, width)), 1.0)
        sq_y = u[0] * (height - side)
        sq_x = u[1] * (width - side)
        boxes = []
        for i in range(2):
            a, b, c, d = u[2 + 4 * i], u[3 + 4 * i], u[4 + 4 * i], u[5 + 4 * i]
            area = self.min_area + (self.max_area - self.min_area) * a
            aspect = tf.exp(math.log(self.min_aspect) + (math.log(self.max_aspect) - math.log(self.min_aspect)) * b)
            h = tf.minimum(side * tf.sqrt(area / aspect), side)
            w = tf.minimum(side * tf.sqrt(area * aspect), side)
            y = sq_y + c * (side - h)
            x = sq_x + d * (side - w)
            # crop_and_resize maps normalised y to the pixel row y * (height - 1).
            boxes.append(tf.stack([y / tf.maximum(height - 1, 1.0), x / tf.maximum(width - 1, 1.0),
                                   (y + h - 1) / tf.maximum(height - 1, 1.0),
                                   (x + w - 1) / tf.maximum(width - 1, 1.0)]))
        jitter = self._jitter.sample_params(tf.stack([tf.cast(frame_shape[0], tf.int32),
                                                      tf.cast(frame_shape[1], tf.int32)]), seed_jitter)
        return tf.stack(boxes), jitter

    def frame_boxes(self, boxes):
        """`(2, 4)` -> `(T, 4)`: box 1 at frame 0, box 2 at the last frame, linear in between."""
        t = tf.linspace(0.0, 1.0, self.frames)[:, None] if self.frames > 1 else tf.zeros([1, 1])
        return (1.0 - t) * boxes[0][None] + t * boxes[1][None]

    def __call__(self, frames, seed):
        """One clip `(T, S, S, channels)` float32 in [0, 1].

        Args:
            frames: one image `(H, W, 3)`, or a window of `T` video frames
                `(T, H, W, 3)` (frame t is cropped with box t); uint8 or [0, 1] float.
            seed: int or shape-[2] int tensor (stateless).
        """
        frames = tf.convert_to_tensor(frames)
        if frames.dtype == tf.uint8:
            frames = tf.cast(frames, tf.float32) / 255.0
        frames = tf.cast(frames, tf.float32)
        if frames.shape.rank == 3:
            frames = frames[None]
        boxes, jitter = self.sample_boxes(tf.shape(frames)[1:3], seed)
        index = tf.range(self.frames) if frames.shape[0] != 1 else tf.zeros([self.frames], tf.int32)
        clip = tf.image.crop_and_resize(frames, self.frame_boxes(boxes), index,
                                        [self.clip_size, self.clip_size], method="bilinear")
        clip = tf.clip_by_value(clip, 0.0, 1.0)
        per_frame = {k: tf.repeat(tf.reshape(v, [1]), self.frames) for k, v in jitter.items()
                     if v.shape.rank == 0}
        clip = self._jitter.jitter(clip, per_frame)
        if self.channels == 1:
            clip = tf.reduce_sum(clip * tf.constant(_GREY, tf.float32), axis=-1, keepdims=True)
        return tf.ensure_shape(clip, [self.frames, self.clip_size, self.clip_size, self.channels])


def temporal_windows(num_frames, frames, stride=1, clips=1):
    """Frame indices of `clips` windows of `frames` frames (every `stride`-th), uniformly spaced.

    The evaluation protocol of video classifiers (the paper: 10 windows): the
    first window starts at frame 0, the last ends at the last frame.

    Returns:
        int array `(clips, frames)`.

    Example:

    >>> temporal_windows(8, 4, stride=2, clips=2).tolist()
    [[0, 2, 4, 6], [1, 3, 5, 7]]
    """
    span = (int(frames) - 1) * int(stride) + 1
    if span > int(num_frames):
        raise ValueError(f"a video of {num_frames} frames is shorter than one clip ({frames} frames every "
                         f"{stride}: {span} frames): use a longer video, fewer frames or a smaller stride.")
    starts = np.round(np.linspace(0, int(num_frames) - span, int(clips))).astype(int)
    return starts[:, None] + int(stride) * np.arange(int(frames))[None]


class SingleImageClipSource:
    """Fake clips of one image, endlessly (see the module docstring).

    Args:
        image: a photo name (`aip_keras.sources.PHOTOS`), a path, an array, or `"noise"`.
        image_seed: seed of `"noise"`.
        **chain: `ClipChain` arguments (clip_size, frames, channels, ...).

    Example:

    >>> source = SingleImageClipSource("astronaut", clip_size=16, frames=4)
    >>> next(iter(source.dataset(2, seed=0))).shape
    TensorShape([2, 4, 16, 16, 3])
    """

    def __init__(self, image="astronaut", image_seed=0, **chain):
        self.chain = ClipChain(**chain)
        self.image = load_image(image, seed=image_seed)
        self.chain.check_frame_size(*self.image.shape[:2], what=f"image {image!r}")
        self.name = image if isinstance(image, str) else "array"

    def dataset(self, batch_size, seed=0):
        image = tf.constant(self.image)
        chain = self.chain
        ds = tf.data.Dataset.counter().map(lambda i: chain(image, image_chain.element_seed(seed, i)),
                                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    def get_config(self):
        return {"kind": "image", "image": self.name, **self.chain.get_config()}


class SingleVideoSource:
    """Random windows of one real video with the clip chain's spatial augmentation, endlessly.

    Args:
        video: a video file path (decoded once), or uint8 frames `(N, H, W, 3)`.
        stride: take every `stride`-th frame within a window.
        max_side: decode with the short side scaled down to this.
        **chain: `ClipChain` arguments.

    Example:

    >>> import numpy as np
    >>> frames = np.random.default_rng(0).integers(0, 255, (20, 40, 60, 3), dtype=np.uint8)
    >>> source = SingleVideoSource(frames, clip_size=16, frames=4, stride=2)
    >>> next(iter(source.dataset(2, seed=0))).shape
    TensorShape([2, 4, 16, 16, 3])
    """

    def __init__(self, video, stride=1, max_side=256, **chain):
        self.chain = ClipChain(**chain)
        self.name = str(video) if not isinstance(video, np.ndarray) else "array"
        self.frames = load_video(video, max_side=max_side) if not isinstance(video, np.ndarray) else video
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3:
            raise ValueError(f"video frames must be (N, H, W, 3), got shape {self.frames.shape}: decode the video first.")
        self.chain.check_frame_size(*self.frames.shape[1:3], what=f"video {self.name}")
        self.stride = int(stride)
        temporal_windows(len(self.frames), self.chain.frames, self.stride)  # raises if too short

    def dataset(self, batch_size, seed=0):
        video = tf.constant(self.frames)
        span = (self.chain.frames - 1) * self.stride + 1
        starts = len(self.frames) - span + 1
        offsets = tf.range(self.chain.frames) * self.stride
        chain = self.chain

        def clip(i):
            clip_seed = image_chain.element_seed(seed, i)
            start_seed, chain_seed = tf.unstack(tf.random.experimental.stateless_split(clip_seed, 2))
            start = tf.random.stateless_uniform([], start_seed, 0, starts, dtype=tf.int32)
            return chain(tf.gather(video, start + offsets), chain_seed)

        ds = tf.data.Dataset.counter().map(clip, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    def get_config(self):
        return {"kind": "video", "video": self.name, "num_frames": int(len(self.frames)), "stride": self.stride,
                **self.chain.get_config()}
