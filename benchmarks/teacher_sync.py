"""Does the procedural teacher follow real music? Renders the visualizers for a folder of audio files and scores
them against FFmpeg's own visualizers (avectorscope, showwaves) rendered from the same audio in the same run.

    python benchmarks/teacher_sync.py MUSIC_DIR [--seconds 40 --offset 20 --max-files 10 --json out.json]

Per file, a segment (--offset, --seconds) is decoded once. Each visualizer's video of it is scored by AV-Align
(the variant in docs/evaluation.md) against its own audio and against every other file's audio (same length);
the *sync ratio* is own ÷ mean of others (1.0: the video follows a random song as well as its own).
Teacher renderings:
    teacher        the song rendered whole and seamless (what `audio2video visualize` does)
    teacher_3s     each 3 s window computed alone, one after another (how a training clip sees a song)
Scored by `audio2video.evaluation.music.score_videos` (the same code as `evaluate --data FOLDER_OF_AUDIO`):
also mean colour saturation, artefact frames, motion correlation with the teacher, and the seam ratio: mean
optical flow into the first frame of each 3 s window ÷ into the other frames (1.0: no seam). Prints JSON.
Only audio you may tune on belongs here (see docs/data_engine.md: the Debian packages for training).
"""
from __future__ import annotations

import argparse
import fractions
import json
import sys
import time
from pathlib import Path

import av
import numpy as np

from audio2video.data import ClipSpec, compute_features
from audio2video.data.song import render_song, song_features
from audio2video.data.style import audio_style
from audio2video.data.visualizers.compositor import composite
from audio2video.evaluation.music import load_segments, score_videos
from audio2video.io.files import AUDIO_SUFFIXES
from audio2video.io.frames import to_uint8

FFMPEG_FILTERS = {"avectorscope": "avectorscope=s={s}x{s}:r={fps}",
                  "showwaves": "showwaves=s={s}x{s}:r={fps}:mode=line"}
REF_RATE = 44100


def teacher_whole(audio: np.ndarray, spec: ClipSpec) -> np.ndarray:
    tl = song_features(audio, spec)
    return np.concatenate([to_uint8(b) for b in render_song(tl, spec)])


def teacher_windows(audio: np.ndarray, spec: ClipSpec) -> np.ndarray:
    """Each 3 s window alone, as the training data engine renders a clip."""
    frames = []
    n, style = spec.num_samples, audio_style()
    for start in range(0, len(audio) - n + 1, n):
        tl = compute_features(audio[start:start + n], spec)
        frames.append(to_uint8(composite(tl, style, spec)))
    return np.concatenate(frames)


def stereo_segment(path: Path, offset: float, seconds: float) -> np.ndarray:
    """(2, n) float32 at REF_RATE: FFmpeg's visualizers see the real stereo image."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=REF_RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frame.pts = None
            chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
    x = np.concatenate(chunks, axis=1)
    a = int(offset * REF_RATE)
    return np.ascontiguousarray(x[:, a:a + int(seconds * REF_RATE)])


def ffmpeg_video(stereo: np.ndarray, graph_spec: str, size: int, fps: int, frames: int) -> np.ndarray:
    graph = av.filter.Graph()
    src = graph.add_abuffer(format="fltp", sample_rate=REF_RATE, layout="stereo",
                            time_base=fractions.Fraction(1, REF_RATE))
    name, args = graph_spec.format(s=size, fps=fps).split("=", 1)
    chain = [src, graph.add(name, args), graph.add("format", "rgb24"), graph.add("buffersink")]
    for a, b in zip(chain[:-1], chain[1:]):
        a.link_to(b)
    graph.configure()
    out: list[np.ndarray] = []

    def drain():
        while True:
            try:
                out.append(graph.pull().to_ndarray())
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    for start in range(0, stereo.shape[1], 2048):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo[:, start:start + 2048]), format="fltp",
                                           layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = REF_RATE, start, fractions.Fraction(1, REF_RATE)
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    video = np.stack(out[:frames])
    if len(video) < frames:      # the filter may stop a frame short: hold the last frame
        video = np.concatenate([video, np.repeat(video[-1:], frames - len(video), axis=0)])
    return video


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("music", type=Path, help="a folder of audio files (searched recursively)")
    ap.add_argument("--seconds", type=float, default=40.0, help="segment length per file")
    ap.add_argument("--offset", type=float, default=20.0, help="segment start (files shorter than offset + "
                                                               "seconds use their first seconds)")
    ap.add_argument("--max-files", type=int, default=10)
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args(argv)
    files = sorted(p for p in args.music.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)[:args.max_files]
    paths, segments, starts, skipped = load_segments(files, args.seconds, args.offset)
    for _, reason in skipped:
        print(f"skipped: {reason}", file=sys.stderr)
    if len(paths) < 2:
        print(f"{args.music}: need at least 2 audio files of {args.seconds:g} s", file=sys.stderr)
        return 2
    spec = ClipSpec()
    frames = int(round(args.seconds * spec.fps))
    videos = {k: [] for k in ("teacher", "teacher_3s", *FFMPEG_FILTERS)}
    timing = {k: 0.0 for k in videos}
    for path, seg, offset in zip(paths, segments, starts):
        for key, make in (("teacher", lambda: teacher_whole(seg, spec)),
                          ("teacher_3s", lambda: teacher_windows(seg, spec))):
            t = time.perf_counter()
            videos[key].append(make()[:frames])
            timing[key] += time.perf_counter() - t
        stereo = stereo_segment(path, offset, args.seconds)
        for key, graph_spec in FFMPEG_FILTERS.items():
            t = time.perf_counter()
            videos[key].append(ffmpeg_video(stereo, graph_spec, 128, spec.fps, frames))
            timing[key] += time.perf_counter() - t
    result = score_videos(paths, segments, videos, window=spec.num_frames)
    result["seconds"] = args.seconds
    for key, entry in result["renderers"].items():
        entry["overall"]["render_seconds_per_audio_second"] = timing[key] / (len(paths) * args.seconds)
    text = json.dumps(result, indent=1, default=float)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
