"""`audio2video train` (and `python -m audio2video.train`, what torchrun launches)."""
from __future__ import annotations

import argparse

from .common import Parser, add_overwrite, add_quiet, path_text, tolerant_streams
from .failures import run_command

DESCRIPTION = ("Train on the procedural engine, and on your own music with --set 'data.music=[\"DIR\"]' (no videos "
               "needed: the same visualizers draw the targets), with checkpoints, exact resume, validation and "
               "logging. Under torchrun (RANK/WORLD_SIZE set) it runs DistributedDataParallel.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=path_text, metavar="FILE",
                   help="TOML or YAML config (see configs/); default: built-in defaults")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting, e.g. --set optim.lr=1e-4 --set model.kind=legacy (repeatable)")
    p.add_argument("--run-dir", required=True, type=path_text, metavar="DIR",
                   help="where checkpoints, metrics.jsonl, samples and plots go")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    add_overwrite(p, help="start a new run in a --run-dir that is not empty: a previous run there is set aside, "
                          "and deleted once the new run has its first checkpoint (put back if it fails before)")
    p.add_argument("--init-from", type=path_text, metavar="MODEL_DIR",
                   help="start a new run from a model directory's weights (e.g. src/audio2video/weights/hybrid, the "
                        "shipped model, or any checkpoint) with a fresh optimizer and schedule")
    p.add_argument("--device", help="auto (cuda, then mps, then cpu), cpu, cuda or mps; overrides the config")
    p.add_argument("--sync-bn", action="store_true",
                   help="under torchrun, BatchNorm statistics span all processes (same as --set sync_bn=true)")
    add_quiet(p)


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model (one process, or many under torchrun)", description=DESCRIPTION)
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train; a SIGINT/SIGTERM checkpoint ends with exit status 128 + the signal's number."""
    from ..training import TrainingStopped, load_config, train

    overrides = (list(args.overrides) + ([f"device={args.device}"] if args.device else [])
                 + ([f"init_from={args.init_from}"] if args.init_from else [])
                 + (["sync_bn=true"] if args.sync_bn else []))
    cfg = load_config(args.config, overrides)
    try:
        train(cfg, args.run_dir, resume=args.resume, overrides_given=bool(args.config or overrides),
              progress=not args.quiet, overwrite=args.overwrite)
    except TrainingStopped as stop:
        print(stop, flush=True)
        return 128 + stop.signum
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m audio2video.train` (what torchrun launches)."""
    tolerant_streams()
    parser = Parser(prog="audio2video.train", description=DESCRIPTION)
    add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    args = parser.parse_args(argv)
    return run_command("audio2video train", lambda: run(args), debug=args.debug)
