"""The torch engine (see `pipelines.engine`) and `make_engine`, which picks an engine for a model and backend.

`TorchEngine` runs a hybrid model through its fast form (`models.fast`: folded, fused, channels-last) on CPU,
bf16 autocast and large batches on CUDA, and the legacy model (or any model with `encode`/`decode`) eagerly;
`torch.compile` is used only where its compile time pays off. `pipelines.onnx_backend.OnnxEngine` is the same
interface over onnxruntime.
"""
from __future__ import annotations

import contextlib
import threading
import warnings

import numpy as np
import torch

from ..errors import UserError
from ..models import AudioToVideoNet, VideoModel
from ..models.fast import FastHybrid, bf16_convolutions_available
from .engine import Engine, cpu_cores
from .generate_options import BACKENDS, COMPILE_CHOICES, PRECISIONS

# torch.compile (inductor, weights frozen) of the decoder's convolutions, measured on a 2-core CPU against this
# fast path: 12-31 s to compile (warm or cold inductor cache), then 2.69 against 2.83 ms of CPU a frame. It pays
# for itself only past about 250,000 frames (2.3 hours of video), so "auto" compiles only inputs that long.
# Unmeasured on a GPU, so "auto" does not compile there ("on" does).
COMPILE_SECONDS = 30.0
COMPILE_GAIN_PER_FRAME = {"cpu": 0.00012}
# Folding the seed Linear into the first transposed convolution (`FastDecoder.fold_first_layer`) costs 17 GFLOP
# once at spec size (about 0.1 s of two cores) and saves 0.35 ms of CPU a frame: on a CPU it pays from about
# 600 frames (20 s of video). A GPU folds in milliseconds: always.
FOLD_MIN_FRAMES = 600


class TorchEngine(Engine):
    """`precision`: "auto" (bf16 autocast on CUDA, fp32 elsewhere), "fp32", or "bf16": autocast on CUDA; on CPU the
    fast decoder's weights in bf16 (oneDNN's bf16 convolutions: on CPUs with AMX about 2x the fp32 speed, frames
    within a few 8-bit levels of fp32's), an eager model under CPU autocast."""

    def __init__(self, model: VideoModel, fast: bool = True, compile: str = "auto", precision: str = "auto"):
        if compile not in COMPILE_CHOICES:
            raise ValueError(f"compile must be one of {COMPILE_CHOICES}, not {compile!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.model = model
        self.config = model.config
        self.device = next(model.parameters()).device
        self.compile_mode = compile
        self.compiled = False
        self.fast = None
        self.has_features = all(callable(getattr(model, m, None)) for m in ("encode", "decode"))
        cuda = self.device.type == "cuda"
        if fast and isinstance(model, AudioToVideoNet):
            self.fast = FastHybrid.from_model(model)
            self.fast.use_native_ops(True)
            self.fast.decoder.use_fused_ops(self.device.type == "cpu")
            if self.device.type in ("cpu", "cuda"):
                self.fast.decoder.to(memory_format=torch.channels_last)
        self.bf16 = precision == "bf16" or (precision == "auto" and cuda)
        if self.bf16 and self.device.type not in ("cpu", "cuda"):
            raise UserError(f"--precision bf16 runs on cuda or cpu, not {self.device.type}")
        if self.bf16 and self.device.type == "cpu" and self.fast is not None:
            if not bf16_convolutions_available():
                raise UserError("--precision bf16 needs a CPU with AVX-512 for oneDNN's bf16 convolutions (AMX to be "
                                "fast); this one has none: use fp32")
            self.fast.decoder.to(torch.bfloat16)
        self.name = ("torch fast path" if self.fast is not None else "torch eager") + (" (bf16)" if self.bf16 else "")
        if cuda:
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once
        self.conv_chunk = 1024 if cuda else 8 * max(1, torch.get_num_threads())  # frames per convolution call
        self.decode_chunk = self.conv_chunk if cuda else 8 * self.conv_chunk  # frames per first-layer matmul
        self.window_batch = 64 if cuda else 4
        # CPU: one decoder per core (frames decode independently); with torch left at several intra-op threads
        # (the caller did not run `configure_threads`), as many fewer decoders
        self.workers = max(1, cpu_cores() // torch.get_num_threads()) if self.device.type == "cpu" else 1
        self._thread = threading.local()

    def _autocast(self):
        """bf16 autocast where this engine runs in bf16 through it: on CUDA, and an eager model on CPU (the CPU
        fast path holds its decoder in bf16 instead, and keeps the encoder in fp32)."""
        if self.bf16 and (self.device.type == "cuda" or self.fast is None):
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- the interface ------------------------------------------------------------------------------------
    @torch.no_grad()
    def features(self, audio: torch.Tensor) -> torch.Tensor:
        audio = audio.to(self.device)
        with self._autocast():
            out = self.fast.encode(audio) if self.fast is not None else self.model.encode(audio)
        return out.float()

    @torch.no_grad()
    def frames(self, features: torch.Tensor) -> torch.Tensor:
        features = features.to(self.device)
        with self._autocast():
            if self.fast is not None:
                dec = self.fast.decoder
                out = dec.assemble(dec.parities(dec.first(features)).float()).permute(0, 3, 1, 2)
            else:
                out = self.model.decode(features.unsqueeze(0))[0]
        return out.float()

    @torch.no_grad()
    def frames_uint8(self, features: torch.Tensor) -> np.ndarray:
        if not getattr(self._thread, "ready", False):
            # a decoder thread's first call (`generate` runs them on a pool, the fast path's and an eager model's
            # alike): a fresh thread's OpenMP team is every core, and MKL's matmuls and oneDNN's convolutions use
            # it until torch's first parallel op in the thread sets it to torch's count: the cores oversubscribed,
            # and a chunk's kernels split their work by which thread happened to take it first. Setting torch's
            # count (unchanged) sets this thread's team too.
            torch.set_num_threads(torch.get_num_threads())
            self._thread.ready = True
        if self.fast is None:
            return super().frames_uint8(features)
        with self._autocast():
            return self.fast.frames_uint8(features.to(self.device), self.conv_chunk).cpu().numpy()

    @torch.no_grad()
    def video(self, audio: torch.Tensor) -> torch.Tensor:
        if self.has_features:
            return super().video(audio)
        with self._autocast():
            return self.model(audio.to(self.device)).float()

    # -- set-up that pays for long inputs: the first-layer fold, torch.compile -------------------------------
    def plan(self, total_frames: int) -> None:
        if self.fast is not None and (self.device.type != "cpu" or total_frames >= FOLD_MIN_FRAMES):
            threads = torch.get_num_threads()
            torch.set_num_threads(self.workers * threads)  # no decoder runs yet: the fold gets every core
            try:
                self.fast.decoder.fold_first_layer()
            finally:
                torch.set_num_threads(threads)
        self._plan_compile(total_frames)

    def _plan_compile(self, total_frames: int) -> None:
        if self.fast is None or self.compiled or self.compile_mode == "off":
            return
        gain = COMPILE_GAIN_PER_FRAME.get(self.device.type, 0.0) * total_frames
        if self.compile_mode == "auto" and gain < COMPILE_SECONDS:
            return
        self.compiled = True
        try:
            import torch._inductor.config as inductor_config

            inductor_config.freezing = True  # weights are constants: fold and prepack them
            self.fast.decoder.use_fused_ops(False)  # inductor picks its own fusions
            compiled = torch.compile(self.fast.decoder.parities, dynamic=False)
            with torch.no_grad(), self._autocast():
                compiled(self.fast.decoder.first(torch.zeros(self.conv_chunk, self.config.d_model,
                                                              device=self.device)))
            self.fast.decoder.parities = compiled
            self.name += " + torch.compile"
            if self.device.type == "cpu":  # compiled kernels are not shared across decoder threads: one, on every core
                torch.set_num_threads(self.workers * torch.get_num_threads())
                self.workers = 1
        except Exception as e:  # noqa: BLE001 - no compiler, unsupported platform...: eager is correct, only slower
            self.fast.decoder.use_fused_ops(self.device.type == "cpu")
            vars(self.fast.decoder).pop("parities", None)
            warnings.warn(f"torch.compile failed, running eagerly ({type(e).__name__}: {str(e).splitlines()[0]})")

    def describe(self) -> str:
        if self.device.type != "cpu":
            return f"{self.name} on {self.device}"
        return (f"{self.name} on cpu, {self.workers} decoder thread{'s' * (self.workers > 1)} x "
                f"{torch.get_num_threads()} intra-op")


def configure_threads() -> int:
    """CPU generation runs one single-threaded decoder per core, each on its own chunk of frames (they decode
    independently), instead of one decoder whose every op is split across cores: no thread ever waits at a
    barrier for another, which on a busy machine (or beside the encoder thread) wastes up to two thirds of the
    CPU time spinning. Sets torch's intra-op threads to 1; returns the number of cores (decoders)."""
    torch.set_num_threads(1)
    return cpu_cores()


def make_engine(model: VideoModel | Engine, backend: str = "torch", fast: bool = True,
                compile: str = "auto", onnx_dir=None, precision: str = "auto") -> Engine:
    """The engine for `model` (an Engine passes through). backend "onnxruntime" exports the model to ONNX in
    memory unless `onnx_dir` holds an export (`audio2video export --onnx`)."""
    if isinstance(model, Engine):
        return model
    if backend == "onnxruntime":
        from .onnx_backend import OnnxEngine

        if precision == "bf16":
            raise ValueError("precision bf16 is for the torch backend; onnxruntime runs the model in fp32")
        return OnnxEngine.from_model(model, onnx_dir)
    if backend != "torch":
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    return TorchEngine(model, fast=fast, compile=compile, precision=precision)
