"""`audio2video info`: the model's component table."""
from __future__ import annotations

import argparse

from .common import path_text


class _ModelKinds:
    """argparse choices read from the model registry when a --kind is checked, so `--help` never imports torch."""

    def __contains__(self, kind: object) -> bool:
        from ..models import model_kinds

        return kind in model_kinds()

    def __iter__(self):
        from ..models import model_kinds

        return iter(model_kinds())


def register(sub) -> None:
    p = sub.add_parser("info", help="print the model's component table: stages, output shapes, parameters",
                       description="Print each stage of the model (the shipped one by default) with its output "
                                   "shape and parameter count, the total, and the spec's approximate figures beside "
                                   "the real ones.")
    p.add_argument("--checkpoint", type=path_text, metavar="DIR",
                   help="a saved model directory (default: the shipped model)")
    p.add_argument("--kind", choices=_ModelKinds(), metavar="KIND",
                   help="describe a fresh, untrained model of this kind (hybrid or legacy) at spec size instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models import ModelConfig, build_model, load_model
    from ..models.summary import format_table

    from ..errors import UserError
    from ..models import shipped_model_dir

    if args.kind and args.checkpoint:
        raise UserError("give --checkpoint (a saved model) or --kind (a fresh one), not both")
    if args.kind:
        model, source = build_model(ModelConfig(kind=args.kind)), f"a fresh {args.kind} model at spec size"
    else:
        model = load_model(args.checkpoint)
        source = args.checkpoint or f"the shipped model ({shipped_model_dir()})"
    print(f"model: {source}\n")
    print(format_table(model))
    return 0
