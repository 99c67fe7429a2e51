"""Generate from a long input with the spec-size model: wall time, real-time factor and peak memory.

    python benchmarks/generate.py --minutes 10 [--batch-size 2] [--checkpoint DIR]

Prints JSON. The baseline is the same process measured after decoding the input only (peak RSS of
decode), so the figure for generation shows what the model and the streaming encoder add.
Each phase runs in its own subprocess so peak RSS is per phase.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_long_wav(path: Path, minutes: float, rate: int = 44100) -> None:
    import wave

    n = int(minutes * 60 * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        block = rate * 10
        rng = np.random.default_rng(0)
        for start in range(0, n, block):
            t = np.arange(start, min(start + block, n)) / rate
            beat = (np.sin(2 * np.pi * 2 * t) > 0.6)
            x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * beat * rng.standard_normal(len(t))
            pcm = (np.clip(np.stack([x, x]), -1, 1).T * 32000).astype("<i2")
            w.writeframes(pcm.tobytes())


def phase(kind: str, src: str, ckpt: str, batch: int) -> dict:
    code = f"""
import json, resource, sys, time
t = time.perf_counter()
if {kind!r} == 'decode':
    from audio2video.io.media import load_audio
    audio, info = load_audio({src!r})
else:
    from audio2video.cli import main
    assert main(['generate', {src!r}, '-o', {src!r} + '.mp4', '--checkpoint', {ckpt!r}, '--batch-size',
                 '{batch}', '-q']) == 0
print(json.dumps({{'seconds': time.perf_counter() - t,
                  'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--checkpoint", help="model directory (default: a freshly initialised spec-size hybrid)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "long.wav"
        write_long_wav(src, args.minutes)
        ckpt = args.checkpoint
        if ckpt is None:
            from audio2video import AudioToVideoNet

            ckpt = str(AudioToVideoNet().save_pretrained(Path(tmp) / "ckpt"))
        decode = phase("decode", str(src), ckpt, args.batch_size)
        gen = phase("generate", str(src), ckpt, args.batch_size)
    seconds = args.minutes * 60
    print(json.dumps({"input_minutes": args.minutes, "batch_size": args.batch_size,
                      "baseline_decode": decode, "generate": gen,
                      "real_time_factor": gen["seconds"] / seconds}, indent=2))


if __name__ == "__main__":
    main()
