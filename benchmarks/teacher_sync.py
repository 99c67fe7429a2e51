"""Does the procedural teacher follow real music? Renders the visualizers for a folder of audio files and scores
them against FFmpeg's own visualizers (avectorscope, showwaves) rendered from the same audio in the same run.

    python benchmarks/teacher_sync.py MUSIC_DIR [--seconds 40 --offset 20 --max-files 10 --json out.json]

Per file, a segment (--offset, --seconds) is decoded once. Each visualizer's video of it is scored by AV-Align
(the variant in docs/evaluation.md) against its own audio and against every other file's audio (same length);
the *sync ratio* is own ÷ mean of others (1.0: the video follows a random song as well as its own).
Teacher renderings:
    teacher        the song rendered whole and seamless (what `audio2video visualize` does)
    teacher_3s     each 3 s window computed alone, one after another (how a training clip sees a song)
Also: mean colour saturation (HSV S of every pixel), and the window-boundary flow ratio: mean optical flow
into the first frame of each 3 s window ÷ mean flow into the other frames (1.0: no seam). Prints JSON.
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
from audio2video.media import load_audio
from audio2video.metrics import audio_peak_times, av_align_score, motion_curve, video_peak_times

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".oga"}
FFMPEG_FILTERS = {"avectorscope": "avectorscope=s={s}x{s}:r={fps}",
                  "showwaves": "showwaves=s={s}x{s}:r={fps}:mode=line"}
REF_RATE = 44100


def to_uint8(video: np.ndarray) -> np.ndarray:
    """(T, 3, H, W) float in [0, 1] -> (T, H, W, 3) uint8."""
    return np.clip(np.round(video * 255), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


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


def saturation(video: np.ndarray) -> float:
    v = video.astype(np.float32)
    hi, lo = v.max(axis=3), v.min(axis=3)
    return float(np.mean(np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-6), 0.0)))


def boundary_ratio(curve: np.ndarray, window: int) -> float:
    idx = np.arange(1, len(curve))
    at = idx[idx % window == 0]
    rest = idx[idx % window != 0]
    return float(curve[at].mean() / max(curve[rest].mean(), 1e-9)) if len(at) else float("nan")


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
    if len(files) < 2:
        print(f"{args.music}: need at least 2 audio files", file=sys.stderr)
        return 2
    spec = ClipSpec()
    n = int(round(args.seconds * spec.sample_rate))
    frames = int(round(args.seconds * spec.fps))
    audios, names, videos = [], [], {k: [] for k in ("teacher", "teacher_3s", *FFMPEG_FILTERS)}
    timing = {k: 0.0 for k in videos}
    for path in files:
        x, _ = load_audio(path, spec.sample_rate)
        x = x.reshape(-1)
        offset = args.offset if len(x) >= (args.offset + args.seconds) * spec.sample_rate else 0.0
        seg = x[int(offset * spec.sample_rate):][:n]
        if len(seg) < n:
            print(f"skipped {path.name}: shorter than {args.seconds:g} s", file=sys.stderr)
            continue
        names.append(path.name)
        audios.append(seg)
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
    peaks = [audio_peak_times(a, spec.sample_rate) for a in audios]
    result = {"files": names, "seconds": args.seconds, "visualizers": {}}
    for key, vids in videos.items():
        curves = [motion_curve(v) for v in vids]
        vpeaks = [video_peak_times(c, spec.fps) for c in curves]
        own = [av_align_score(peaks[i], vpeaks[i], spec.fps)[0] for i in range(len(vids))]
        other = [np.nanmean([av_align_score(peaks[j], vpeaks[i], spec.fps)[0] for j in range(len(vids)) if j != i])
                 for i in range(len(vids))]
        result["visualizers"][key] = {
            "av_align_own": round(float(np.nanmean(own)), 4),
            "av_align_others": round(float(np.nanmean(other)), 4),
            "sync_ratio": round(float(np.nanmean(own) / max(np.nanmean(other), 1e-9)), 3),
            "saturation": round(float(np.mean([saturation(v) for v in vids])), 3),
            "boundary_flow_ratio": round(float(np.nanmean([boundary_ratio(c, spec.num_frames) for c in curves])), 3),
            "render_seconds_per_audio_second": round(timing[key] / (len(vids) * args.seconds), 4),
            "per_file_own": [round(float(s), 3) for s in own],
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
