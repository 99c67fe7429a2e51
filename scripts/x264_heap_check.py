"""Does the H.264 writer give the same bytes whatever the heap held before it? For each frame size, write the same
90 frames (a flat colour, then a moving pattern) after each of several heap contents and count the distinct files.

    python scripts/x264_heap_check.py 32x32 64x64 128x128 [--runs 12] [--preset veryfast]

One distinct file for a size and picture means reproducible bytes; more means the encoder's output depends on what
the heap held (docs/generation.md, "The same bytes every run?"). Linux only: the heap is filled through glibc.
"""
import argparse
import ctypes
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

from audio2video.io.media import DEFAULT_PRESET, X264_PRESETS, Mp4Writer

FILLS = (0x00, 0xFF, 0x55, 0xAA)


def glibc() -> ctypes.CDLL:
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def frame_size(text: str) -> tuple[int, int]:
    """'WIDTHxHEIGHT' -> (width, height), each even and at least 16 (what x264 and yuv420p take here)."""
    sides = tuple(int(v) if v.isdigit() else 0 for v in text.lower().split("x"))
    if len(sides) != 2 or any(v < 16 or v % 2 for v in sides):
        raise ValueError(text)
    return sides


def fill_heap(libc: ctypes.CDLL, byte: int) -> None:
    """Allocate blocks of many sizes, fill them with `byte`, free them: later allocations reuse that memory."""
    blocks = []
    for size in list(range(64, 20000, 64)) * 4:
        block = libc.malloc(size)
        ctypes.memset(block, byte, size)
        blocks.append(block)
    for block in blocks:
        libc.free(block)


def pictures(width: int, height: int, kind: str, n: int = 90) -> np.ndarray:
    if kind == "flat":
        return np.broadcast_to(np.array([146, 115, 165], np.uint8), (n, height, width, 3)).copy()
    y, x = np.mgrid[0:height, 0:width]
    grey = [127 + 3 * np.sin(x / 7 + t / 20) + 2 * np.cos(y / 5 - t / 30) for t in range(n)]
    return np.repeat(np.stack(grey)[..., None], 3, axis=3).astype(np.uint8)


def distinct_files(libc: ctypes.CDLL, frames: np.ndarray, runs: int, preset: str, folder: Path) -> int:
    height, width = frames.shape[1:3]
    digests = set()
    for run in range(runs):
        fill_heap(libc, FILLS[run % len(FILLS)])
        out = folder / "check.mp4"
        with Mp4Writer(out, 30.0, width, height, preset=preset, threads=1) as writer:
            for i in range(0, len(frames), 8):
                writer.write(frames[i:i + 8])
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    return len(digests)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="+", help="frame sizes as WIDTHxHEIGHT, e.g. 32x32 64x64")
    ap.add_argument("--runs", type=int, default=12, help="heap contents to try for each size (default 12)")
    ap.add_argument("--preset", default=DEFAULT_PRESET, choices=X264_PRESETS, help=f"x264's (default {DEFAULT_PRESET})")
    args = ap.parse_args()
    try:
        sizes = [frame_size(size) for size in args.sizes]
        libc = glibc()
    except ValueError as e:
        sys.exit(f"x264_heap_check: a size is WIDTHxHEIGHT, even sides of 16 or more (e.g. 64x64), not {e}")
    except OSError:
        sys.exit("x264_heap_check: needs glibc (Linux) to fill the heap")
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in sizes:
            counts = {kind: distinct_files(libc, pictures(width, height, kind), args.runs, args.preset, Path(tmp))
                      for kind in ("flat", "moving")}
            print(f"{width}x{height}: distinct files of {args.runs} runs: " +
                  ", ".join(f"{kind} {n}" for kind, n in counts.items()), flush=True)


if __name__ == "__main__":
    main()
