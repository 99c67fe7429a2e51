"""Generation speed in one run: the machine's matmul ceiling, the plain eager model, the fast path, end to end.

    python benchmarks/generate.py [--checkpoint DIR] [--long-minutes 10] [--no-onnx] [--no-long]

Prints JSON. Every figure is measured in this run, against baselines measured in this run:
- ceiling: the faster of two dense fp32 kernels with the threads generation uses, a 2048 x 2048 matmul (MKL)
  and a 3x3 convolution of 128 channels (oneDNN, channels-last): on CPUs where MKL takes a narrower vector
  path than oneDNN (AMD with AVX-512), the matmul alone is not the machine's limit;
- the plain eager model (`model(audio)`, all 90 frames of each window decoded, no tricks) at batch 1 and 8, and
  its forward passes alone over every window of the 60 s input (at batch 1 and 8; the faster is the baseline);
- each layer of the fast decoder on one thread, against a one-thread 3x3 convolution, and each transposed
  convolution also in its parity form;
- the fast path's seconds per window for the same work (encode one window, decode its 90 frames), its
  GFLOP/s (the eager model's FLOP count / time) and fraction of the ceiling (on a GPU: clips/s, bf16 autocast,
  64 windows a batch, against the bf16 matmul rate), and the FLOPs it executes (fewer: the seed Linear folded
  into the first transposed convolution) / time; on a CPU with bf16 convolutions, also the opt-in
  `--precision bf16` fast path (its decoder in bf16, the FLOPs counted the same);
- the model's whole work over the 60 s input as `generate` runs it (`render_frames`: encoder beside the decoder
  threads, each frame decoded once, no file read or written), against the eager forward passes over it;
- end-to-end `audio2video generate` in a fresh process, launch to exit (start-up, decoding, the model, H.264 +
  AAC encoding, muxing and the exit included) on a 60 s and a long input: real-time factor, time to first
  frame, peak RSS (the 60 s input: the median of 3 runs, each after one timing of the eager forward passes,
  so that the ratio of their medians compares runs made in the same minutes of a shared machine); the 60 s
  input with one signal in both channels (the AAC encoder's slow case); the same with the sound encoded in the
  writer thread (as before `io.aac_ahead`), with `--precision bf16` (where the CPU has bf16 convolutions), with
  `--preset medium` (x264's own default), for `--backend onnxruntime`, and for the plain eager model through
  the same pipeline (pixel cross-fade, 2 windows a batch, as `generate` ran before);
- `audio2video --help` wall time.
The default model is a freshly initialised spec-size hybrid with the level-normalised input and the log-mel
path (the shipped model's recipe); its cost does not depend on its weights.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_wav(path: Path, seconds: float, rate: int = 44100, dual_mono: bool = False) -> None:
    """A beat over tones in 44.1 kHz stereo (written in blocks, so hours need little memory). The two channels
    differ as a stereo mix's do (their own noise in the beat, a tone each beside the shared one: correlation about
    0.6, where real stereo music measured 0.4-0.9); `dual_mono` writes one signal to both (correlation 1, the
    AAC encoder's slow case: its mid/side search costs about 3x as much as on real music)."""
    import wave

    n = int(seconds * rate)
    rng = np.random.default_rng(0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        for start in range(0, n, rate * 10):
            t = np.arange(start, min(start + rate * 10, n)) / rate
            beat = np.sin(2 * np.pi * 2 * t) > 0.6
            tone = 0.3 * np.sin(2 * np.pi * 220 * t)
            left = tone + 0.2 * beat * rng.standard_normal(len(t))
            if dual_mono:
                right = left
            else:
                left = left + 0.1 * np.sin(2 * np.pi * 330 * t)
                right = tone + 0.2 * beat * rng.standard_normal(len(t)) + 0.1 * np.sin(2 * np.pi * 440 * t)
            w.writeframes((np.clip(np.stack([left, right]), -1, 1).T * 32000).astype("<i2").tobytes())


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, repeats: int = 3) -> float:
    """Median wall seconds of `repeats` calls after one warm-up call (GPU work waited for)."""
    fn()
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def matmul_rate(device) -> tuple[float, str]:
    """The ceiling: fp32 2048 x 2048 matmuls on CPU; bf16 8192 x 8192 on a GPU (generate runs bf16 there)."""
    import torch

    n, dtype = (8192, torch.bfloat16) if device.type == "cuda" else (2048, torch.float32)
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    best = min(timed(lambda: a @ b, 1) for _ in range(5))
    return 2 * n ** 3 / best / 1e9, f"{str(dtype).split('.')[-1]} {n}x{n} matmul on {device.type}"


def conv_rate() -> float:
    """fp32 GFLOP/s of a 3x3 convolution, 128 -> 128 channels, 8 x 64 x 64, channels-last (oneDNN) on CPU."""
    import torch

    conv = torch.nn.Conv2d(128, 128, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
    x = torch.randn(8, 128, 64, 64).to(memory_format=torch.channels_last)
    with torch.no_grad():
        best = min(timed(lambda: conv(x), 1) for _ in range(5))
    return 2 * 128 * 128 * 9 * 8 * 64 * 64 / best / 1e9


CHILD = """
import json, sys, time
launched = float(sys.argv[1])
from audio2video.io import background
first = []
put = background.BackgroundSink.put
def stamped(self, item):
    if not first:
        first.append(time.time())
    return put(self, item)
background.BackgroundSink.put = stamped
args = json.loads(sys.argv[2])
if args[0] == 'library':  # the pipeline as it was: eager model, pixel cross-fade, batch 2
    from audio2video.models import load_model
    from audio2video.pipelines.generate import GenerateOptions, generate_video
    from audio2video.pipelines.engine import cpu_cores
    from audio2video.pipelines.inference import TorchEngine, configure_threads
    from audio2video.runtime import resolve_device
    configure_threads()
    engine = TorchEngine(load_model(args[3]), fast=False)
    generate_video(engine, args[1], args[2], GenerateOptions(crossfade='pixel', batch_size=2, progress=False))
else:
    if args[0] == 'sound-in-process':  # the sound encoded in the writer thread, as generate did before
        from audio2video.io import audio_track
        audio_track.AHEAD_MIN_SECONDS = float('inf')
        args = args[1:]
    from audio2video.cli import main
    code = main(args, whole_process=True)  # as the console script runs it
    assert code == 0
# VmHWM: this process's own peak (ru_maxrss would carry over the parent's peak across fork + exec)
hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]
print(json.dumps({'first_frame_s': first[0] - launched, 'peak_rss_mb': int(hwm.split()[1]) / 1024}))
if args[0] != 'library':  # then end as the console script does
    from audio2video.cli.failures import exit_now
    exit_now(code)
"""


def one_run(args: list[str]) -> dict:
    """A fresh process's wall time, from its launch to its exit (what a user waits for), first frame, peak RSS."""
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, repr(launched), json.dumps(args)], capture_output=True,
                         text=True)
    seconds = time.time() - launched
    if out.returncode:
        raise SystemExit(f"generate failed: {out.stderr[-2000:]}")
    return {"seconds": seconds, **json.loads(out.stdout.strip().splitlines()[-1])}


def median_run(runs: list[dict], audio_seconds: float) -> dict:
    """The median of `one_run`'s results, with its real-time factor (and every run's time, if several)."""
    result = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    result = {k: round(v, 3) for k, v in {**result, "x_real_time": audio_seconds / result["seconds"]}.items()}
    if len(runs) > 1:
        result["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    return result


def end_to_end(args: list[str], audio_seconds: float, repeats: int = 1) -> dict:
    """`one_run` `repeats` times: the median run (all their times listed)."""
    return median_run([one_run(args) for _ in range(repeats)], audio_seconds)


def help_seconds() -> float:
    code = "import sys; from audio2video.cli import main; sys.argv = ['audio2video', '--help']; main()"
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return round(min(times), 3)


def per_window(model, engine, flops: float, ceiling: float) -> dict:
    """Seconds per window for one window's full work (features of 8 windows, then all 90 frames of each, on the
    engine's decoder threads as generate runs them)."""
    import torch

    from audio2video.io.background import ordered_map

    cfg = model.config
    n = 64 if next(model.parameters()).device.type == "cuda" else 8  # windows per measurement
    x = torch.randn(n, 1, cfg.num_samples) * 0.3

    def run():
        feats = engine.features(x).reshape(-1, cfg.d_model)
        chunks = feats.split(engine.decode_chunk)
        for _ in ordered_map(engine.frames_uint8, chunks, engine.workers):
            pass

    seconds = timed(run, 2) / n
    return {"s_per_window": round(seconds, 4), "clips_per_s": round(1 / seconds, 2),
            "gflops": round(flops / seconds / 1e9, 1), "fraction_of_ceiling": round(flops / seconds / 1e9 / ceiling, 3)}


def in_generate(engine, seconds: float, encoder_flops: float, frame_flops: float, ceiling: float, matmul: float
                ) -> dict:
    """The model's whole work for `seconds` of audio as `generate` runs it (`render_frames`: each window's encoder
    and transformer on the main thread beside the decoder threads, the features cross-faded, each output frame
    decoded once, to uint8), without reading or writing any file. GFLOP/s count the work done: the encoder's
    FLOPs per window plus the decoder's per frame decoded."""
    import torch

    from audio2video.pipelines.generate import plan_windows, render_frames
    from audio2video.pipelines.generate_options import GenerateOptions

    cfg = engine.config
    total = int(round(seconds * cfg.fps))
    windows = len(plan_windows(total, cfg.frames, cfg.fps, 0.5).starts)
    audio = (np.random.default_rng(0).standard_normal(int(seconds * cfg.sample_rate)) * 0.3).astype(np.float32)
    options = GenerateOptions(progress=False)

    def run():
        assert sum(len(f) for f in render_frames(engine, audio, total, options)) == total

    with torch.no_grad():
        s = timed(run, 2)
    work = windows * encoder_flops + total * frame_flops
    gflops = work / s / 1e9
    return {"seconds": round(s, 3), "windows": windows, "frames_decoded": total, "gflop": round(work / 1e9, 1),
            "x_real_time": round(seconds / s, 2), "gflops": round(gflops, 1),
            "fraction_of_ceiling": round(gflops / ceiling, 3), "fraction_of_matmul": round(gflops / matmul, 3)}


def fast_path_saving(engine) -> float:
    """FLOPs a frame that the fast path does not execute: the seed Linear and the first ConvTranspose2d against the
    one Linear they fold into."""
    dec = engine.fast.decoder if engine.fast is not None else None
    if dec is None or not dec.folded:
        return 0.0
    return 2.0 * (dec.first_layer_macs(False) - dec.first_layer_macs(True))


def decoder_layers(engine, frames: int = 8) -> dict | None:
    """Each layer of the fast decoder on one thread (generate runs one single-threaded decoder per core), `frames`
    frames a convolution call, against a one-thread 3x3 convolution; each transposed convolution also in the parity
    form the last layer uses (a 2x2 convolution to 4x the channels), to show which form is faster where. CPU with
    oneDNN's fused ops only."""
    import torch

    from audio2video.models.fast import _parity_weight, fused_ops_available

    if engine.fast is None or engine.device.type != "cpu" or not fused_ops_available():
        return None
    dec = engine.fast.decoder
    mkl = torch.ops.mkldnn
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ceiling = conv_rate()
        layers = []

        def add(name: str, fn, flop: float = 0.0, n: int = frames, **extra) -> None:
            s = timed(fn, 5)
            entry = {"layer": name, "ms_per_frame": round(s / n * 1e3, 4), **extra}
            if flop:
                entry.update(gflops=round(flop / s / 1e9, 1), fraction_of_conv=round(flop / s / 1e9 / ceiling, 3))
            layers.append(entry)

        with torch.no_grad():
            # the first layer runs on `decode_chunk` frames at once in generate (its weight read once for them)
            many = torch.randn(engine.decode_chunk, engine.config.d_model)
            cin, cout = dec.weights[0].shape[:2]
            nominal = 2 * len(many) * dec.first_layer_macs(False)
            name = (f"first layer: seed Linear + ConvTranspose2d {cin}->{cout} + GELU + BatchNorm "
                    f"({len(many)} frames a call)")
            folded = dec.folded
            dec.folded = False  # the same layers apart, then folded (as generate runs inputs of 20 s and more)
            try:
                add(name + ", apart", lambda: dec.first(many), nominal, len(many))
            finally:
                dec.folded = folded
            if folded:
                add(name + ", folded into one matmul", lambda: dec.first(many), nominal, len(many),
                    executed_gflop_per_frame=round(2 * dec.first_layer_macs(True) / 1e9, 4))
            feats = many[:frames]
            x = dec.first(feats)
            for w, b, norm in zip(dec.weights[1:], dec.biases[1:], dec.norms[1:]):
                pw, pb = _parity_weight(w).contiguous(), b.repeat(4)

                def convt(x=x, w=w, b=b):
                    return mkl._convolution_transpose_pointwise(x, w, b, [1, 1], [0, 0], [2, 2], [1, 1], 1, "gelu", [],
                                                                "none")

                def parity(x=x, pw=pw, pb=pb):
                    return mkl._convolution_pointwise(x, pw, pb, [1, 1], [1, 1], [1, 1], 1, "gelu", [], "none")

                y = convt()
                flop = 2 * y[0].numel() * w.shape[0] * 4 * frames   # 4 taps per output pixel (k4, s2)
                add(f"ConvTranspose2d {w.shape[0]}->{w.shape[1]} + GELU", convt, flop,
                    parity_form_ms_per_frame=round(timed(parity, 5) / frames * 1e3, 4))
                # in place, as generate runs it (on a copy: a few repeats of one scale and shift stay finite)
                add(f"BatchNorm {w.shape[1]}, in place", lambda y=y.clone(), norm=norm: norm.apply_(y))
                x = norm(y)

            def last(x=x):
                return mkl._convolution_pointwise(x, dec.last_weight, dec.last_bias, [1, 1], [1, 1], [1, 1], 1,
                                                  "sigmoid", [], "")

            p = last()
            cin = dec.last_weight.shape[1]
            add(f"last layer {cin}->{dec.out_channels}, parity form + sigmoid", last,
                2 * frames * (2 * (p.shape[-1] - 1)) ** 2 * dec.out_channels * cin * 4)
            out = torch.empty(frames, 2 * (p.shape[-1] - 1), 2 * (p.shape[-1] - 1), dec.out_channels, dtype=torch.uint8)
            add("to uint8 + interleave", lambda: dec.assemble(p.float().mul_(255).round_().to(torch.uint8), out))
            total = timed(lambda: engine.fast.frames_uint8(many, engine.conv_chunk), 3) / len(many) * frames
    finally:
        torch.set_num_threads(threads)
    return {"threads": 1, "frames_per_call": frames, "conv_ceiling_1_thread_gflops": round(ceiling, 1),
            "whole_decoder_ms_per_frame": round(total / frames * 1e3, 4), "layers": layers}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", help="model directory (default: a fresh spec-size hybrid, level + logmel)")
    ap.add_argument("--seconds", type=float, default=60.0, help="the short input's length (default 60)")
    ap.add_argument("--long-minutes", type=float, default=10.0, help="the long input's length (default 10)")
    ap.add_argument("--no-long", action="store_true", help="skip the long input")
    ap.add_argument("--no-onnx", action="store_true", help="skip the onnxruntime backend")
    ap.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda...")
    args = ap.parse_args()

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from audio2video.io.media import load_audio
    from audio2video.models import AudioToVideoNet, ModelConfig, load_model
    from audio2video.models.fast import bf16_convolutions_available
    from audio2video.pipelines.generate import plan_windows, audio_windows
    from audio2video.pipelines.engine import cpu_cores
    from audio2video.pipelines.inference import TorchEngine, configure_threads
    from audio2video.runtime import resolve_device

    cores = cpu_cores()
    device = resolve_device(args.device)
    report: dict = {"device": str(device), "cores": cores, "torch": torch.__version__,
                    "load_average_before": os.getloadavg()[0]}
    torch.set_num_threads(cores)  # the plain model and the matmul ceiling: torch's usual intra-op threads
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = args.checkpoint or str(AudioToVideoNet(ModelConfig(input_norm="level", audio_features="logmel"))
                                      .save_pretrained(tmp / "model"))
        model = load_model(ckpt, map_location=device)
        cfg = model.config
        report["model"] = {"checkpoint": args.checkpoint or "fresh spec-size hybrid (input_norm=level, "
                                                            "audio_features=logmel)",
                           "input_norm": cfg.input_norm, "audio_features": cfg.audio_features}
        # the transformer's fused inference kernel is invisible to the FLOP counter (it would miss its 0.57
        # GFLOP): counted through the layers' plain path, the same matmuls
        torch.backends.mha.set_fastpath_enabled(False)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, 1, cfg.num_samples, device=device))
        flops = counter.get_total_flops()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.encode(torch.zeros(1, 1, cfg.num_samples, device=device))
        encoder_flops = counter.get_total_flops()
        torch.backends.mha.set_fastpath_enabled(True)
        report["gflop_per_window"] = round(flops / 1e9, 2)
        report["gflop_encoder_per_window"] = round(encoder_flops / 1e9, 3)
        matmul, ceiling_kind = matmul_rate(device)
        report["ceiling_matmul_gflops"] = round(matmul, 1)
        ceiling = matmul
        if device.type == "cpu":
            conv = conv_rate()
            report["ceiling_conv_gflops"] = round(conv, 1)
            if conv > matmul:
                ceiling, ceiling_kind = conv, "float32 3x3 convolution, 128 channels, channels-last, on cpu"
        report["ceiling_gflops"] = round(ceiling, 1)
        report["ceiling"] = ceiling_kind

        eager = {}
        with torch.no_grad():
            for batch in (1, 8):
                x = torch.randn(batch, 1, cfg.num_samples, device=device) * 0.3
                s = timed(lambda: model(x), 3 if batch == 1 else 1) / batch
                eager[f"batch{batch}"] = {"s_per_window": round(s, 4), "gflops": round(flops / s / 1e9, 1),
                                          "fraction_of_ceiling": round(flops / s / 1e9 / ceiling, 3),
                                          "x_real_time": round(cfg.clip_seconds / s, 2)}
        report["eager"] = eager
        eager_threads = torch.get_num_threads()
        configure_threads()  # what generate does: one single-threaded decoder per core
        fast = TorchEngine(model)
        fast.plan(int(round(args.seconds * cfg.fps)))  # what generate does before the 60 s input (the fold)
        report["fast_engine"] = fast.describe()
        report["fast"] = per_window(model, fast, flops, ceiling)
        report["fast"]["fraction_of_matmul"] = round(report["fast"]["gflops"] / matmul, 3)
        report["fast_in_generate"] = in_generate(fast, args.seconds, encoder_flops,
                                                 (flops - encoder_flops) / cfg.frames, ceiling, matmul)
        # the GFLOP/s above count the model's FLOPs (what eager runs); the fast path executes fewer where it folds
        # the seed Linear into the first transposed convolution
        saved = fast_path_saving(fast)
        report["fast"]["executed_gflop_per_window"] = round((flops - cfg.frames * saved) / 1e9, 2)
        report["fast"]["executed_gflops"] = round(report["fast"]["executed_gflop_per_window"]
                                                  / report["fast"]["s_per_window"], 1)
        run = report["fast_in_generate"]
        run["executed_gflop"] = round(run["gflop"] - run["frames_decoded"] * saved / 1e9, 1)
        run["executed_gflops"] = round(run["executed_gflop"] / run["seconds"], 1)
        report["fast_decoder_layers"] = decoder_layers(fast)
        report["fast"]["speedup_vs_eager_batch1"] = round(eager["batch1"]["s_per_window"]
                                                          / report["fast"]["s_per_window"], 2)
        if device.type == "cpu" and bf16_convolutions_available():  # the opt-in --precision bf16 (AMX makes it fast)
            bf16 = TorchEngine(model, precision="bf16")
            bf16.plan(int(round(args.seconds * cfg.fps)))
            report["fast_bf16"] = {"engine": bf16.describe(), **per_window(model, bf16, flops, ceiling)}
            report["fast_bf16"]["speedup_vs_fast_fp32"] = round(report["fast"]["s_per_window"]
                                                                / report["fast_bf16"]["s_per_window"], 2)

        short = tmp / "short.wav"
        write_wav(short, args.seconds)
        total = int(round(args.seconds * cfg.fps))
        plan = plan_windows(total, cfg.frames, cfg.fps, 0.5)
        audio, _ = load_audio(short, cfg.sample_rate)  # the very samples generate's model sees
        windows = np.stack(list(audio_windows(audio, plan, cfg.sample_rate, cfg.fps, cfg.num_samples)))

        def forward_pass_seconds(batch: int) -> float:
            torch.set_num_threads(eager_threads)
            t = time.perf_counter()
            with torch.no_grad():
                for i in range(0, len(windows), batch):
                    model(torch.from_numpy(windows[i:i + batch]).unsqueeze(1).to(device))
            sync()
            return time.perf_counter() - t

        def gen(out: str, *extra: str) -> list[str]:
            return ["generate", str(short), "-o", str(tmp / out), "--checkpoint", ckpt, "-q", "-y", *extra]

        # the forward passes alone at batch 1 and at batch 8: the faster is the baseline (on a CPU, batch 8's
        # activations outgrow the caches and batch 1 wins). Then the baseline and `generate` alternate, three
        # times each, so a slow minute of a shared machine falls on both: the ratio is of their medians, and the
        # three paired ratios are listed.
        forward = {f"batch{b}_seconds": round(forward_pass_seconds(b), 2) for b in (1, 8)}
        batch = 1 if forward["batch1_seconds"] <= forward["batch8_seconds"] else 8
        eager_runs, gen_runs = [], []
        for _ in range(3):
            eager_runs.append(forward_pass_seconds(batch))
            gen_runs.append(one_run(gen("short.mp4")))
        eager_forward = round(float(np.median(eager_runs)), 2)
        report["eager_forward_only_short"] = {"windows": len(windows), **forward, "batch": batch,
                                              "seconds": eager_forward,
                                              "all_seconds": [round(t, 2) for t in eager_runs],
                                              "x_real_time": round(args.seconds / eager_forward, 2)}
        report["fast_in_generate"]["x_faster_than_eager_forward_only"] = round(
            eager_forward / report["fast_in_generate"]["seconds"], 2)
        e2e = median_run(gen_runs, args.seconds)
        e2e["x_faster_than_eager_forward_only"] = round(eager_forward / e2e["seconds"], 2)
        e2e["paired_ratios"] = [round(e / g["seconds"], 2) for e, g in zip(eager_runs, gen_runs)]
        report["generate_short"] = e2e
        # the same track with one signal in both channels: FFmpeg's AAC encoder's slow case
        dual = tmp / "dual_mono.wav"
        write_wav(dual, args.seconds, dual_mono=True)
        e2e = end_to_end(["generate", str(dual), "-o", str(tmp / "dual.mp4"), "--checkpoint", ckpt, "-q", "-y"],
                         args.seconds)
        e2e["x_faster_than_eager_forward_only"] = round(eager_forward / e2e["seconds"], 2)
        report["generate_short_dual_mono"] = e2e
        # the same with the sound encoded in the writer thread once frames come (before io.aac_ahead)
        report["generate_short_sound_in_process"] = end_to_end(["sound-in-process", *gen("here.mp4")], args.seconds,
                                                               repeats=3)
        if "fast_bf16" in report:
            e2e = end_to_end(gen("bf16.mp4", "--precision", "bf16"), args.seconds, repeats=3)
            e2e["x_faster_than_eager_forward_only"] = round(eager_forward / e2e["seconds"], 2)
            report["generate_short_bf16"] = e2e
        # the same with x264's own default preset (what generate used before --preset defaulted to veryfast)
        report["generate_short_preset_medium"] = end_to_end(gen("medium.mp4", "--preset", "medium"), args.seconds)
        report["generate_short_eager_pixel"] = end_to_end(["library", str(short), str(tmp / "before.mp4"), ckpt],
                                                     args.seconds)
        if not args.no_onnx:
            from audio2video.cli import main as cli
            from audio2video.pipelines.onnx_backend import OnnxEngine

            exported = tmp / "exported"
            with contextlib.redirect_stdout(sys.stderr):  # generate then uses these graphs, as documented
                cli(["export", ckpt, "-o", str(exported), "--onnx"])
            configure_threads()
            ort_engine = OnnxEngine.from_model(model, exported)
            report["onnxruntime"] = {"engine": ort_engine.describe(), **per_window(model, ort_engine, flops, ceiling)}
            onnx_gen = ["generate", str(short), "-o", str(tmp / "onnx.mp4"), "--checkpoint", str(exported), "-q",
                        "--backend", "onnxruntime"]
            report["onnxruntime"]["generate_short"] = end_to_end(onnx_gen, args.seconds)
        if not args.no_long:
            long = tmp / "long.wav"
            write_wav(long, args.long_minutes * 60)
            report["generate_long"] = end_to_end(["generate", str(long), "-o", str(tmp / "long.mp4"), "--checkpoint",
                                                  ckpt, "-q"], args.long_minutes * 60)
            report["generate_long"]["minutes"] = args.long_minutes
        report["help_seconds"] = help_seconds()
        report["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
