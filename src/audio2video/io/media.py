"""Every PyAV call of the project: decode audio (and video frames) from any media file, encode mp4 (H.264 + AAC).

Decoding validates as it goes, so a bad input fails with one clear MediaError line before heavy compute.
Writing goes to a temporary file beside the target and is renamed into place only when complete.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import MediaError
from .audio_frames import (AAC_CODER, MIN_SAMPLE_RATE, EncodedAac, SampleBuffer, Steady, first_nonfinite,
                           is_bitrate_estimate, steady, wav_missing_bytes, wav_probe_options)
from .files import AtomicFile, file_problem, reworded

# A decoded stream shorter than this share of its declared duration (and short by over a codec frame) is truncated.
TRUNCATION_TOLERANCE = 0.9
# Codecs such as AAC decode to whole frames (1024-2048 samples): this much past the declared end is padding.
ENCODER_PADDING = 2048
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "veryfast"  # on the model's frames: 40% less CPU than x264's medium (docs/benchmarks.md)


@dataclass
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    layout: str
    codec: str
    declared_seconds: float | None  # what the container says, if anything
    num_samples: int = 0  # decoded samples per channel at the native rate (0 until fully decoded)
    length_hint: float | None = None  # seconds the file seems to hold, even if only estimated (to size buffers)

    @property
    def seconds(self) -> float:
        return self.num_samples / self.sample_rate


def _open(path: Path, need_audio: bool = True):
    problem = file_problem(path)
    if problem:
        raise MediaError(f"{path}: {problem}" + (", not a media file" if problem == "is a directory" else ""))
    try:
        container = av.open(str(path), "r", metadata_errors="replace",  # tags in a broken encoding are no error
                            container_options=wav_probe_options(path))
    except av.FFmpegError as e:
        raise MediaError(f"{path}: not a readable media file ({_reason(e)})") from None
    except OSError as e:
        raise MediaError(f"{path}: cannot be opened ({e.strerror or e})") from None
    except ValueError as e:  # e.g. a header PyAV cannot represent
        raise MediaError(f"{path}: not a readable media file ({_reason(e)})") from None
    if need_audio and not container.streams.audio:
        container.close()
        raise MediaError(f"{path}: has no audio stream")
    return container


def _reason(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return text.splitlines()[0].strip() if text else type(e).__name__


def _info(path: Path, container) -> AudioInfo:
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    declared = None
    if stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared = container.duration / 1_000_000
    hint = declared
    if declared is not None and is_bitrate_estimate(path, container, declared):
        declared = None  # only size / bit rate: no basis for a truncation check (e.g. VBR mp3, no Xing header)
    return AudioInfo(path, int(ctx.sample_rate or 0), int(ctx.channels or 0), ctx.layout.name if ctx.layout else "",
                     ctx.name, declared, length_hint=hint)


def decode_frames(path: str | Path) -> Iterator[av.AudioFrame]:
    """Yield the first audio stream's decoded frames, turning FFmpeg failures into MediaError."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            yield frame
    except (av.FFmpegError, ValueError) as e:
        raise MediaError(f"{path}: corrupt or truncated audio ({_reason(e)})") from None
    finally:
        container.close()


def probe_audio(path: str | Path) -> AudioInfo:
    """Cheap check that `path` opens, has an audio stream and that its first audio frame decodes."""
    path = Path(path)
    frames = decode_frames(path)
    try:
        first = next(frames, None)
    finally:
        frames.close()
    if first is None:
        raise MediaError(f"{path}: audio stream holds no samples")
    container = _open(path)
    try:
        info = _info(path, container)
    finally:
        container.close()
    info.sample_rate, info.channels = first.sample_rate, len(first.layout.channels)
    info.layout = first.layout.name
    if info.sample_rate < MIN_SAMPLE_RATE:
        raise MediaError(f"{path}: a sample rate of {info.sample_rate} Hz holds no usable audio "
                         f"(at least {MIN_SAMPLE_RATE} Hz)")
    return info


def load_audio(path: str | Path, sample_rate: int = 16000) -> tuple[np.ndarray, AudioInfo]:
    """Decode the whole audio track to mono float32 at `sample_rate`, validating it on the way.

    Returns (samples, info) where info describes the original track (its own rate, channels, length).
    Fails with MediaError on: missing/undecodable file, no audio stream, zero-length audio,
    NaN/Inf samples, or a stream that ends well before its declared duration.
    """
    path = Path(path)
    info = probe_audio(path)
    missing = wav_missing_bytes(path)
    if missing:
        raise MediaError(f"{path}: truncated: the wav header declares {missing} more bytes of audio than the file holds")
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    hint = info.length_hint if info.length_hint and 0 < info.length_hint < 3 * 3600 else 600.0  # (sane or a guess)
    chunks = SampleBuffer(hint * sample_rate * 1.05 + sample_rate)
    native, uniform = 0, Steady()  # (more than 8 channels are downmixed, a mid-stream change of rate converted)
    for raw in itertools.chain(decode_frames(path), [None]):  # None: the end, to flush
        bad = first_nonfinite(raw) if raw is not None else None
        if bad is not None:
            t = (native + bad) / max(raw.sample_rate, 1)
            raise MediaError(f"{path}: audio holds NaN or Inf samples (first at {t:.4f} s, sample {native + bad})")
        for frame in uniform.push(raw) if raw is not None else uniform.flush():
            native += frame.samples
            frame.pts = None
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    audio = chunks.array()
    info.num_samples = native
    if info.declared_seconds and 0 < native - info.declared_seconds * info.sample_rate <= ENCODER_PADDING:
        # the decoder returned whole codec frames; the container knows where the real audio ends
        info.num_samples = int(round(info.declared_seconds * info.sample_rate))
    if native == 0 or not len(audio):
        raise MediaError(f"{path}: audio stream holds no samples")
    missing_samples = (info.declared_seconds - info.seconds) * info.sample_rate if info.declared_seconds else 0
    if missing_samples > ENCODER_PADDING and info.seconds < TRUNCATION_TOLERANCE * info.declared_seconds:
        raise MediaError(f"{path}: truncated: the file declares {info.declared_seconds:.2f} s of audio "
                         f"but only {info.seconds:.2f} s decode")
    if not np.isfinite(audio).all():
        raise MediaError(f"{path}: audio holds NaN or Inf samples")
    return audio, info


def load_audio_native(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode the whole audio track to mono float32 at the track's own sample rate: samples as floats in
    [-1, 1] (integer formats scaled by 1/32768 etc., as FFmpeg converts them), channels averaged (what
    librosa.to_mono does). Returns (samples, sample_rate). Fails with MediaError like `load_audio`."""
    path = Path(path)
    info = probe_audio(path)
    resampler = av.AudioResampler(format="fltp")  # keeps the rate and the channels
    chunks: list[np.ndarray] = []
    for frame in steady(decode_frames(path)):
        frame.pts = None
        for out in resampler.resample(frame):
            chunks.append(out.to_ndarray().mean(axis=0))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().mean(axis=0))
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise MediaError(f"{path}: audio stream holds no samples")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    if not np.isfinite(audio).all():
        raise MediaError(f"{path}: audio holds NaN or Inf samples")
    return audio, info.sample_rate


def _video_stream(path: Path, container):
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path}: has no video stream")
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or float(rate) <= 0:
        container.close()
        raise MediaError(f"{path}: the video stream declares no frame rate")
    return stream, float(rate)


def video_fps(path: str | Path) -> float:
    """The frame rate of the first video stream (its average rate, as OpenCV's CAP_PROP_FPS reports it)."""
    path = Path(path)
    container = _open(path, need_audio=False)
    try:
        return _video_stream(path, container)[1]
    finally:
        container.close()


def iter_video_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Yield the first video stream's frames one at a time as RGB uint8 (H, W, 3), in presentation order.
    Memory stays bounded whatever the video's length. FFmpeg failures become MediaError."""
    path = Path(path)
    container = _open(path, need_audio=False)
    try:
        stream, _ = _video_stream(path, container)
        size = None
        for frame in container.decode(stream):
            if size is None:
                size = (frame.width, frame.height)
            if (frame.width, frame.height) == size:
                yield frame.to_ndarray(format="rgb24")
            else:  # the resolution changed mid-stream (e.g. a .ts): every frame keeps the first one's size
                yield frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
    except (av.FFmpegError, ValueError) as e:
        raise MediaError(f"{path}: corrupt or truncated video ({_reason(e)})") from None
    finally:
        container.close()


def decode_video_frames(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames of the first video stream as RGB uint8 (N, H, W, 3), and its fps. For short clips: a long
    video does not fit in memory this way; stream it with `iter_video_frames`."""
    fps = video_fps(path)
    frames = list(iter_video_frames(path))
    if not frames:
        raise MediaError(f"{path}: the video stream holds no frames")
    return np.stack(frames), fps


def audio_frames_from_array(samples: np.ndarray, sample_rate: int, chunk: int = 4096) -> Iterator[av.AudioFrame]:
    """Frames of a float32 (channels, n) or (n,) array, for muxing audio that lives in memory."""
    samples = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    layout = {1: "mono", 2: "stereo"}.get(samples.shape[0])
    if layout is None:
        raise ValueError("in-memory audio must have 1 or 2 channels")
    for start in range(0, samples.shape[1], chunk):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + chunk]), "fltp", layout)
        frame.sample_rate = sample_rate
        yield frame


class Mp4Writer:
    """Stream RGB frames (and optionally audio) into a browser-friendly mp4: H.264 yuv420p + AAC, faststart.

    Use as a context manager. Frames go in as uint8 arrays (N, H, W, 3); they are scaled to `width` x `height`
    at encode time (Lanczos); `preset` is x264's (X264_PRESETS), `threads` caps its threads (None: its own choice).
    `audio` is muxed packet by packet, interleaved with the video as it is written: packets copied from a source
    (an `io.audio_track.CopiedAudio`, naming its `stream`), AAC packets (an `EncodedAac` or an
    `io.aac_ahead.AacAhead`, naming their `rate` and `layout`), or audio frames (from `decode_frames` or
    `audio_frames_from_array`) to encode as an `EncodedAac` at `audio_rate` with `audio_channels`.
    The file appears at `path` only when the writer closes without error.
    """

    def __init__(self, path: str | Path, fps: float, width: int, height: int | None = None, crf: int = 20,
                 audio: Iterable[av.AudioFrame] | Iterable[av.Packet] | None = None, audio_rate: int = 48000,
                 audio_channels: int = 2, preset: str = DEFAULT_PRESET, threads: int | None = None):
        self.path = Path(path)
        self.fps = Fraction(fps).limit_denominator(1001)
        height = height or width
        if width % 2 or height % 2:
            raise MediaError(f"{self.path}: output width and height must be even for yuv420p, not {width}x{height}")
        if not self.path.parent.is_dir():
            raise MediaError(f"{self.path}: output folder {self.path.parent} does not exist")
        self._file = AtomicFile(self.path, suffix=".mp4")
        self._container = None
        self._audio_source = None
        try:
            self._open(width, height, crf, preset, audio, audio_rate, audio_channels, threads)
        except BaseException as e:
            self.abort()
            if isinstance(e, (av.FFmpegError, ValueError, OverflowError)):
                raise MediaError(f"{self.path}: cannot encode {width}x{height} video here ({_reason(e)})") from None
            raise

    def _open(self, width, height, crf, preset, audio, audio_rate, audio_channels, threads) -> None:
        self._container = av.open(str(self._file.tmp), "w", format="mp4", options={"movflags": "+faststart"})
        self._video = self._container.add_stream("libx264", rate=self.fps)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"crf": str(crf), "preset": preset, **({"threads": str(threads)} if threads else {})}
        self._size = (width, height)
        # one converter for every frame: a frame's own `reformat` sets up a new swscale context each time, which
        # cost more than the conversion itself (0.2-0.4 against 0.08 ms a 128x128 frame, the same pixels)
        self._reformatter = VideoReformatter()
        self._frames_written = 0
        if audio is not None and not hasattr(audio, "stream") and not hasattr(audio, "layout"):
            audio = EncodedAac(audio, audio_rate, audio_channels)
        self._audio_source = audio
        self._audio_in = None if audio is None else iter(audio)
        self._audio_seconds = 0.0
        self._audio = None
        if hasattr(audio, "stream"):
            self._audio = self._container.add_stream_from_template(audio.stream)
        elif audio is not None:
            # an encoder set up as the packets' own was (`audio_frames.aac_encoder`): never fed, it gives the track
            # the same parameters and decoder configuration when the container opens it
            self._audio = self._container.add_stream("aac", rate=audio.rate)
            self._audio.layout = audio.layout
            self._audio.codec_context.options = {"aac_coder": AAC_CODER}

    def write(self, frames: np.ndarray) -> None:
        """Append uint8 RGB frames (N, H, W, 3) (or one frame (H, W, 3))."""
        frames = np.asarray(frames)
        frames = frames[None] if frames.ndim == 3 else frames
        # unscaled, only the chroma is halved: an area filter does that as well as Lanczos, at 60% of the CPU
        how = "LANCZOS" if (frames.shape[2], frames.shape[1]) != self._size else "AREA"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame = self._reformatter.reformat(frame, width=self._size[0], height=self._size[1], format="yuv420p",
                                               interpolation=how)
            frame.pts = self._frames_written
            self._frames_written += 1
            self._mux(self._video.encode(frame))
        self._write_audio_until(self._frames_written / self.fps)

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    def _write_audio_until(self, seconds: float | None) -> None:
        """Mux audio packets until the track reaches `seconds` (None: all of them)."""
        while self._audio_in is not None and (seconds is None or self._audio_seconds < seconds):
            packet = next(self._audio_in, None)
            if packet is None:
                self._audio_in = None
                return
            self._audio_seconds = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            packet.stream = self._audio
            self._container.mux(packet)

    @property
    def frames_written(self) -> int:
        return self._frames_written

    def close(self) -> Path:
        self._write_audio_until(None)
        self._mux(self._video.encode(None))
        self._container.close()
        return self._file.commit()

    def abort(self) -> None:
        if hasattr(self._audio_source, "close"):
            self._audio_source.close()  # a child encoding the sound is stopped
        try:
            if self._container is not None:
                self._container.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away; its container state does not matter
            pass
        self._file.discard()

    def __enter__(self) -> "Mp4Writer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.close()
                return
        except BaseException as e:  # e.g. the disk filled up while the last packets were written
            exc = e
        self.abort()
        new = reworded(exc, self._file.tmp, self.path)  # "disk full" names the output, not its temporary file
        if new is not exc:
            raise new from None
        if exc_type is None:
            raise exc


def read_video_info(path: str | Path) -> dict:
    """Frame count, fps, size and stream durations of a written video (for tests and reports)."""
    path = Path(path)
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        frames = sum(1 for _ in container.decode(v))
        info = {"frames": frames, "fps": float(v.average_rate), "width": v.codec_context.width,
                "height": v.codec_context.height, "pix_fmt": v.codec_context.pix_fmt, "codec": v.codec_context.name,
                "video_seconds": frames / float(v.average_rate)}
    with av.open(str(path)) as container:
        if container.streams.audio:
            a = container.streams.audio[0]
            # the stream's declared duration is what players show (the edit list trims the encoder's priming)
            seconds = float(a.duration * a.time_base) if a.duration is not None else None
            if seconds is None:
                seconds = sum(f.samples for f in container.decode(a)) / a.codec_context.sample_rate
            info.update(audio_codec=a.codec_context.name, audio_rate=a.codec_context.sample_rate,
                        audio_channels=a.codec_context.channels, audio_seconds=seconds)
    return info
