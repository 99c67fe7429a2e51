"""A model as two ONNX graphs, the same split generation uses: `encode.onnx` (audio windows -> per-frame
features) and `decode.onnx` (per-frame features -> frames), so a runtime cross-fades features in window
overlaps and decodes each output frame once.

    encode.onnx   audio (B, 1, samples) float32          -> features (B, frames, d_model)
    decode.onnx   features (N, d_model)                   -> frames (N, H, W, 3) float32 in [0, 1]

The hybrid model is exported in its fast form (`models.fast`: BatchNorms folded, the STFT as a DFT Conv1d,
the poolings and interpolations as gathers, the last transposed convolution as its sub-pixel equivalent),
which is opset-17 ONNX with no custom ops. `onnx.json` beside the graphs records the sha256 of the
model.safetensors they came from, so a stale export is refused rather than run.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError
from ..io.files import atomic_write, atomic_write_text
from .fast import FastHybrid
from .hybrid import AudioToVideoNet
from .modeling import WEIGHTS_NAME, VideoModel

ENCODE_NAME = "encode.onnx"
DECODE_NAME = "decode.onnx"
MANIFEST_NAME = "onnx.json"
OPSET = 17


class _Encode(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.model.encode(audio)


class _Decode(nn.Module):
    """(N, d) -> (N, H, W, 3), for either model kind."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if isinstance(self.model, FastHybrid):
            return self.model.decoder(features)
        return self.model.decode(features.unsqueeze(0))[0].permute(0, 2, 3, 1)


@contextlib.contextmanager
def _plain_torch():
    """Trace the math, not torch's fused kernels: the transformer's native fast path has no ONNX form."""
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def _export(module: nn.Module, example: torch.Tensor, names: tuple[str, str]) -> bytes:
    buf = io.BytesIO()
    dynamic = {names[0]: {0: "batch"}, names[1]: {0: "batch"}}
    with _plain_torch(), torch.no_grad():
        try:  # the TorchScript-based exporter: sub-second, no extra packages
            torch.onnx.export(module, (example,), buf, input_names=[names[0]], output_names=[names[1]],
                              dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
        except Exception:  # noqa: BLE001 - a torch without the TorchScript exporter: the torch.export one
            buf = io.BytesIO()
            batch = torch.export.Dim("batch", min=1)
            torch.onnx.export(module, (example,), buf, input_names=[names[0]], output_names=[names[1]],
                              dynamic_shapes=({0: batch},), opset_version=max(OPSET, 18), dynamo=True)
    return buf.getvalue()


def export_graphs(model: VideoModel) -> dict[str, bytes]:
    """{ENCODE_NAME: bytes, DECODE_NAME: bytes} for `model` (on CPU, fp32, eval)."""
    model = model.to("cpu").float().eval()
    inner = FastHybrid.from_model(model) if isinstance(model, AudioToVideoNet) else model
    if isinstance(inner, FastHybrid):
        inner.decoder.use_fused_ops(False)
        inner.decoder.fold_first_layer()  # once, for every run of the graph
    cfg = model.config
    audio = torch.zeros(2, 1, cfg.num_samples)
    features = torch.zeros(3, cfg.d_model)
    return {ENCODE_NAME: _export(_Encode(inner).eval(), audio, ("audio", "features")),
            DECODE_NAME: _export(_Decode(inner).eval(), features, ("features", "frames"))}


def weights_digest(directory: str | Path) -> str:
    h = hashlib.sha256()
    with open(Path(directory) / WEIGHTS_NAME, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_onnx(model: VideoModel, directory: str | Path) -> list[Path]:
    """Write encode.onnx, decode.onnx and onnx.json into `directory`, which already holds the model's
    model.safetensors (`save_pretrained`). Each file is written atomically."""
    directory = Path(directory)
    written = []
    for name, data in export_graphs(model).items():
        atomic_write(directory / name, lambda tmp, data=data: Path(tmp).write_bytes(data))
        written.append(directory / name)
    manifest = {"opset": OPSET, "weights_sha256": weights_digest(directory), "torch": torch.__version__,
                "inputs": {"encode": "audio (B, 1, samples)", "decode": "features (N, d_model)"},
                "outputs": {"encode": "features (B, frames, d_model)", "decode": "frames (N, H, W, 3) in [0, 1]"}}
    atomic_write_text(directory / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    return written + [directory / MANIFEST_NAME]


def has_onnx(directory: str | Path | None) -> bool:
    return directory is not None and all((Path(directory) / n).is_file() for n in (ENCODE_NAME, DECODE_NAME))


def load_graphs(directory: str | Path) -> dict[str, bytes]:
    """The two graphs of an export, refused if its model.safetensors has changed since."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text())
        recorded = manifest["weights_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(f"{directory}: {ENCODE_NAME} and {DECODE_NAME} without a readable {MANIFEST_NAME}; "
                              f"re-run `audio2video export {directory} -o OUT --onnx`") from None
    if (directory / WEIGHTS_NAME).is_file() and weights_digest(directory) != recorded:
        raise CheckpointError(f"{directory}: its ONNX graphs were exported from other weights than its "
                              f"{WEIGHTS_NAME}; re-run `audio2video export` with --onnx")
    return {name: (directory / name).read_bytes() for name in (ENCODE_NAME, DECODE_NAME)}
