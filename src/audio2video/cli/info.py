"""`audio2video info`: the model's component table."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    from ..models import model_kinds

    p = sub.add_parser("info", help="print the model's component table: stages, output shapes, parameters",
                       description="Print each stage of the model with its output shape and parameter count, "
                                   "the total, and the spec's approximate figures beside the real ones.")
    p.add_argument("--checkpoint", metavar="DIR", help="a saved model directory (default: a fresh model at spec size)")
    p.add_argument("--kind", choices=model_kinds(), default="hybrid",
                   help="which fresh model to describe when no --checkpoint is given (default: hybrid)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models import ModelConfig, build_model, load_model
    from ..models.summary import format_table

    model = load_model(args.checkpoint) if args.checkpoint else build_model(ModelConfig(kind=args.kind))
    print(format_table(model))
    return 0
