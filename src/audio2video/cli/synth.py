"""`audio2video synth`: procedural (audio, video) samples written to look at."""
from __future__ import annotations

import argparse

from .common import add_overwrite, add_quiet, path_text, positive_int, seed_int


def register(sub) -> None:
    p = sub.add_parser("synth", help="write procedural (audio, video) samples to look at",
                       description="Write N samples of the procedural data engine: .wav, .mp4 (audio muxed), "
                                   ".json metadata and a contact sheet .png (frames above the loudness and onset "
                                   "curves) each.")
    p.add_argument("-n", "--num", type=positive_int, default=8, metavar="N", help="number of samples (default 8)")
    p.add_argument("-o", "--output", required=True, type=path_text, metavar="DIR",
                   help="output folder (created if needed)")
    p.add_argument("--seed", type=seed_int, default=0, help="base seed: sample k of a seed is always the same (default 0)")
    p.add_argument("--style", choices=("audio", "seed"), default="audio",
                   help="audio: the look follows the sound (default); seed: random looks")
    p.add_argument("--split", choices=("train", "heldout"), default="train", help="seed space (default train)")
    add_overwrite(p)
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.procedural import EngineConfig
    from ..pipelines.synth import write_samples

    paths = write_samples(args.num, args.output, seed=args.seed, config=EngineConfig(style=args.style),
                          split=args.split, progress=not args.quiet, overwrite=args.overwrite)
    print(f"wrote {len(paths)} samples (.wav, .mp4, .json, .png each) to {args.output}")
    return 0
