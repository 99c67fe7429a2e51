"""`generate --backend onnxruntime`: the Engine interface over the two ONNX graphs of `models.onnx`.

onnxruntime is an optional extra (`pip install audio2video[onnx]`); asking for this backend without it is a
one-line user error.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import CheckpointError, UserError, first_line
from ..models import VideoModel
from ..models.config import ModelConfig
from ..models.onnx import DECODE_NAME, ENCODE_NAME, export_graphs, has_onnx, load_graphs
from .engine import Engine, cpu_cores


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise UserError("--backend onnxruntime needs the onnxruntime package: pip install 'audio2video[onnx]' "
                        "(or pip install onnxruntime)") from None
    return onnxruntime


class OnnxEngine(Engine):
    name = "onnxruntime"

    def __init__(self, graphs: dict[str, bytes], config: ModelConfig, threads: int | None = None,
                 source: Path | None = None):
        """`source`: the directory the graphs were read from (a user's files: a corrupt or foreign graph is a
        CheckpointError naming it), or None for graphs exported in this process."""
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # like the torch engine: one single-threaded session call per core (see inference.configure_threads)
        cores = cpu_cores()
        self.workers = max(1, cores // max(1, torch.get_num_threads()))
        options.intra_op_num_threads = threads or max(1, cores // self.workers)
        options.inter_op_num_threads = 1
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        signatures = {ENCODE_NAME: (("audio", (None, 1, config.num_samples)),
                                    ("features", (None, config.frames, config.d_model))),
                      DECODE_NAME: (("features", (None, config.d_model)), ("frames", (None, None, None, 3)))}
        sessions = {}
        for name, signature in signatures.items():
            try:
                sessions[name] = ort.InferenceSession(graphs[name], options, providers=providers)
            except Exception as e:  # noqa: BLE001 - onnxruntime's errors share no base class but Exception
                if source is None:
                    raise
                raise CheckpointError(f"{Path(source) / name}: not a readable ONNX graph "
                                      f"({first_line(e)})") from None
            if source is not None:
                _check_signature(sessions[name], signature, Path(source) / name)
        self.encoder, self.decoder = sessions[ENCODE_NAME], sessions[DECODE_NAME]
        self.config = config
        if source is not None:  # the frame size is symbolic in the graph: draw one frame to see it
            _check_frame_size(self, Path(source) / DECODE_NAME)
        self.threads = options.intra_op_num_threads
        self.provider = self.decoder.get_providers()[0]
        if self.provider != "CPUExecutionProvider":
            self.workers = 1

    @classmethod
    def from_model(cls, model: VideoModel, directory: str | Path | None = None) -> "OnnxEngine":
        """From `directory`'s export (`audio2video export --onnx`) if it has one, else exported now, in memory."""
        import_onnxruntime()
        if has_onnx(directory):
            return cls(load_graphs(directory), model.config, source=Path(directory))
        return cls(export_graphs(model), model.config)

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        x = np.ascontiguousarray(audio.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.encoder.run(None, {"audio": x})[0])

    def _nhwc(self, features: torch.Tensor) -> np.ndarray:
        x = np.ascontiguousarray(features.detach().cpu().numpy(), dtype=np.float32)
        return self.decoder.run(None, {"features": x})[0]

    def frames(self, features: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self._nhwc(features)).permute(0, 3, 1, 2)

    def frames_uint8(self, features: torch.Tensor) -> np.ndarray:
        nhwc = torch.from_numpy(self._nhwc(features))
        return nhwc.mul_(255).round_().clamp_(0, 255).to(torch.uint8).numpy()

    def describe(self) -> str:
        return f"onnxruntime ({self.provider}), {self.workers} decoder thread{'s' * (self.workers > 1)} x {self.threads} intra-op"


def _check_signature(session, signature: tuple, path: Path) -> None:
    """Refuse a graph whose input or output is not the one the model's config.json implies (None: any size)."""
    for (name, dims), arg in zip(signature, (session.get_inputs()[0], session.get_outputs()[0])):
        fits = arg.name == name and len(arg.shape) == len(dims) and all(
            want is None or not isinstance(got, int) or got == want for got, want in zip(arg.shape, dims))
        if not fits:
            shape = ", ".join("N" if d is None else str(d) for d in dims)
            raise CheckpointError(f"{path}: its {arg.name} {list(arg.shape)} is not the {name} ({shape}) that "
                                  "the model's config.json implies; re-run `audio2video export` with --onnx")


def _check_frame_size(engine: OnnxEngine, path: Path) -> None:
    """Refuse a decoder graph that draws frames of another size than config.json's frame_size."""
    size = engine.config.frame_size
    try:
        shape = engine._nhwc(torch.zeros(1, engine.config.d_model)).shape
    except Exception as e:  # noqa: BLE001 - onnxruntime's errors share no base class but Exception
        raise CheckpointError(f"{path}: cannot draw a frame with it ({first_line(e)})") from None
    if tuple(shape) != (1, size, size, 3):
        raise CheckpointError(f"{path}: it draws {shape[2]}x{shape[1]} frames, not the {size}x{size} that the "
                              "model's config.json implies; re-run `audio2video export` with --onnx")
