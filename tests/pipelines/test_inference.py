"""Generation's engines: the feature cross-fade decodes each output frame exactly once and equals the model's own
encode / blend / decode; the fast path draws the same pictures as the eager model; the legacy model and models
without encode/decode still work; the background encoder thread reports errors; start-up imports stay lazy."""
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from audio2video.cli import main
from audio2video.io.background import BackgroundSink, ordered_map
from audio2video.io.frames import to_uint8
from audio2video.io.media import read_video_info
from audio2video.models.fast import bf16_convolutions_available
from audio2video.pipelines.generate import (CrossFader, GenerateOptions, audio_windows, even_chunks, plan_windows,
                                           render_frames)
from audio2video.pipelines.inference import FOLD_MIN_FRAMES, TorchEngine, make_engine
from conftest import tiny_config, tiny_model, write_audio


def model_of(**changes):
    model = tiny_model(**changes).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return model


def music(seconds, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)


def render(model_or_engine, audio, total, **options):
    options = GenerateOptions(progress=False, **options)
    return np.concatenate(list(render_frames(model_or_engine, audio, total, options)))


class CountingEngine(TorchEngine):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []  # frames per decoder call, in the order the calls began

    @property
    def decoded(self) -> int:
        return sum(self.calls)

    def frames_uint8(self, features):
        self.calls.append(len(features))
        return super().frames_uint8(features)


@pytest.mark.parametrize("seconds,overlap", [(5.3, 0.5), (2.0, 0.2), (0.4, 0.5), (4.0, 0.0)])
def test_feature_crossfade_decodes_every_frame_once(seconds, overlap):
    model = model_of()
    engine = CountingEngine(model)
    total = round(seconds * 30)
    frames = render(engine, music(seconds), total, overlap=overlap, batch_size=3)
    assert len(frames) == total and engine.decoded == total


@pytest.mark.parametrize("lengths", [[75, 75, 75, 15], [0, 3, 0, 200, 1], [5], [], [16, 64, 64]])
def test_even_chunks_cut_the_rows_again_in_order(lengths):
    rows = torch.arange(sum(lengths) * 2).view(-1, 2)
    pieces = rows.split(lengths) if lengths else []
    chunks = list(even_chunks(iter(pieces), 64, 16))
    assert torch.equal(torch.cat(chunks) if chunks else rows, rows)
    n = len(rows)
    expected = [] if n == 0 else [n] if n <= 16 else [16] + [64] * ((n - 16) // 64) + [(n - 16) % 64]
    assert [len(c) for c in chunks] == [k for k in expected if k]


def test_the_decoder_gets_full_chunks_across_window_boundaries():
    engine = CountingEngine(model_of())
    engine.workers, engine.decode_chunk = 1, 40  # windows give 15 new frames each (1 s windows, 0.5 s overlap)
    total = 10 * 30 + 7
    render(engine, music(10.3), total, batch_size=2)
    first, *middle, last = engine.calls
    assert first == 10 and set(middle) == {40} and 0 < last <= 40 and sum(engine.calls) == total


@pytest.mark.parametrize("kind,extensions", [("hybrid", {}), ("hybrid", dict(input_norm="level", audio_features="logmel")),
                                             ("legacy", {})])
def test_feature_crossfade_is_encode_blend_decode(kind, extensions):
    """The rendered frames are the model's own decode of its own encode, blended in overlaps with the ramp."""
    model = model_of(kind=kind, **extensions)
    cfg = model.config
    seconds = 4.7
    audio, total = music(seconds), round(seconds * 30)
    plan = plan_windows(total, cfg.frames, cfg.fps, 0.5)
    fader, parts = CrossFader(plan.overlap_frames), []
    with torch.no_grad():
        for window in audio_windows(audio, plan, cfg.sample_rate, cfg.fps, cfg.num_samples):
            parts.append(fader.push(model.encode(torch.from_numpy(window).view(1, 1, -1))[0]))
        parts.append(fader.flush())
        expected = to_uint8(model.decode(torch.cat(parts)[:total].unsqueeze(0))[0])
    got = render(model, audio, total, batch_size=2)
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3  # float rounding may move a value across .5


@pytest.mark.parametrize("crossfade", ["feature", "pixel"])
def test_fast_path_draws_the_eager_pictures(crossfade):
    model = model_of(input_norm="level", audio_features="logmel")
    audio, total = music(6.1), round(6.1 * 30)
    fast = render(TorchEngine(model), audio, total, crossfade=crossfade)
    eager = render(TorchEngine(model, fast=False), audio, total, crossfade=crossfade)
    diff = np.abs(fast.astype(int) - eager.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


BF16 = pytest.mark.skipif(not bf16_convolutions_available(), reason="this CPU has no bf16 convolutions (AVX-512)")


@BF16
def test_bf16_on_cpu_stays_within_a_few_levels_of_fp32():
    model = model_of(input_norm="level", audio_features="logmel")
    audio, total = music(6.1), round(6.1 * 30)
    engine = TorchEngine(model, precision="bf16")
    assert engine.fast.decoder.seed_weight.dtype == torch.bfloat16 and "bf16" in engine.describe()
    bf16 = render(engine, audio, total)
    fp32 = render(TorchEngine(model), audio, total)
    diff = np.abs(bf16.astype(int) - fp32.astype(int))
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 4
    assert not np.array_equal(bf16, fp32), "the decoder did run in bf16"
    assert TorchEngine(model, precision="fp32").fast.decoder.seed_weight.dtype == torch.float32


def test_bf16_needs_the_torch_backend_and_a_cpu_that_has_it(tmp_path, tiny_checkpoint, monkeypatch, capsys):
    with pytest.raises(Exception, match="torch backend"):
        GenerateOptions(precision="bf16", backend="onnxruntime")
    with pytest.raises(Exception, match="--precision"):
        GenerateOptions(precision="fp16")
    from audio2video.pipelines import inference

    monkeypatch.setattr(inference, "bf16_convolutions_available", lambda: False)
    src = write_audio(tmp_path / "in.wav", seconds=1.0, rate=16000, channels=1)
    code = main(["generate", str(src), "-o", str(tmp_path / "o.mp4"), "--checkpoint", str(tiny_checkpoint),
                 "--precision", "bf16", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "AVX-512" in err[0] and not (tmp_path / "o.mp4").exists()


def test_the_two_crossfades_differ_only_in_the_overlaps():
    model = model_of()
    with torch.no_grad():
        model.seed.weight.mul_(30)  # pictures that follow the audio strongly, so the two blends differ
    cfg = model.config
    audio, total = music(3.0) * np.linspace(0, 3, 48000, dtype=np.float32), 90
    feature, pixel = render(model, audio, total), render(model, audio, total, crossfade="pixel")
    plan = plan_windows(total, cfg.frames, cfg.fps, 0.5)
    shared = np.zeros(total, bool)
    for start in plan.starts[1:]:
        shared[start:start + plan.overlap_frames] = True
    same = np.abs(feature.astype(int) - pixel.astype(int)).reshape(total, -1).max(1) <= 1
    assert same[~shared].all() and not same[shared].all()


def test_legacy_and_forward_only_models_render():
    legacy = model_of(kind="legacy")
    assert TorchEngine(legacy).fast is None and TorchEngine(legacy).has_features
    assert len(render(legacy, music(2.5), 75, crossfade="pixel")) == 75

    class ForwardOnly(torch.nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config, self.p = config, torch.nn.Parameter(torch.zeros(()))

        def forward(self, audio):
            c = self.config
            return audio.mean().expand(audio.shape[0], c.frames, 3, c.frame_size, c.frame_size).clone()

    engine = make_engine(ForwardOnly(tiny_config()))
    assert not engine.has_features  # only the pixel cross-fade applies, whatever was asked
    assert len(render(engine, music(2.5), 75)) == 75


def test_compile_failure_falls_back_to_eager(monkeypatch):
    model = model_of()
    expected = render(model, music(2.0), 60)
    monkeypatch.setattr(torch, "compile", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no compiler here")))
    engine = TorchEngine(model, compile="on")
    with pytest.warns(UserWarning, match="torch.compile failed"):
        got = render(engine, music(2.0), 60)
    assert np.array_equal(got, expected) and "compile" not in engine.describe()
    short = TorchEngine(model)
    short.plan(600)  # auto: a short input never compiles
    assert not short.compiled


def test_long_inputs_fold_the_first_layer_and_draw_the_same_frames():
    model = model_of()
    short = TorchEngine(model)
    short.plan(FOLD_MIN_FRAMES - 1)  # the fold would cost more than it saves
    assert not short.fast.decoder.folded
    engine, total, threads = TorchEngine(model), FOLD_MIN_FRAMES + 15, torch.get_num_threads()
    folded = render(engine, music(total / 30), total)
    assert engine.fast.decoder.folded and torch.get_num_threads() == threads  # the fold's extra threads given back
    eager = render(TorchEngine(model, fast=False), music(total / 30), total)
    assert np.abs(folded.astype(np.int16) - eager).max() <= 1


def test_parallel_decoders_give_the_same_frames_in_order():
    model = model_of(audio_features="logmel")
    audio, total = music(5.0), 150
    one, many = TorchEngine(model), TorchEngine(model)
    one.workers, many.workers, many.decode_chunk = 1, 3, 7
    assert np.array_equal(render(one, audio, total), render(many, audio, total))


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "eager"])
def test_a_fresh_decoder_thread_runs_its_first_kernels_on_torchs_thread_count(monkeypatch, fast):
    import ctypes
    from pathlib import Path

    maps = Path("/proc/self/maps").read_text().split() if sys.platform == "linux" else []
    gomp = [p for p in maps if "libgomp" in p]
    if not gomp:
        pytest.skip("torch is not built with GNU OpenMP here")
    omp = ctypes.CDLL(gomp[0])
    engine = TorchEngine(model_of(), fast=fast)
    owner, name = (engine.fast.decoder, "first") if fast else (engine.model, "decode")
    first, seen = getattr(owner, name), []

    def spy(x):
        seen.append(omp.omp_get_max_threads())  # before any torch call of this thread's own can set it
        return first(x)

    monkeypatch.setattr(owner, name, spy)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        thread = threading.Thread(target=engine.frames_uint8, args=(torch.zeros(4, engine.config.d_model),))
        thread.start()
        thread.join()
    finally:
        torch.set_num_threads(threads)
    assert seen == [1], "the first layer's matmul ran on the fresh thread's OpenMP default, every core"


def test_ordered_map_keeps_order_bounds_work_and_raises():
    import time

    drawn = []

    def items():
        for i in range(40):
            drawn.append(i)
            yield i

    def slow_square(i):
        time.sleep(0.002 * (i % 3))
        return i * i

    results = ordered_map(slow_square, items(), workers=3, ahead=5)
    assert next(results) == 0 and len(drawn) <= 5  # drawn only as results are taken
    assert list(results) == [i * i for i in range(1, 40)]

    def boom(i):
        if i == 7:
            raise ValueError("bad chunk")
        return i

    with pytest.raises(ValueError, match="bad chunk"):
        list(ordered_map(boom, range(20), workers=2))


def test_background_sink_writes_in_order_and_reports_errors():
    seen, threads = [], set()

    def write(item):
        threads.add(threading.current_thread().name)
        seen.append(item)

    with BackgroundSink(write, depth=2) as sink:
        for i in range(50):
            sink.put(i)
    assert seen == list(range(50)) and threading.current_thread().name not in threads

    def failing(item):
        if item == 3:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with BackgroundSink(failing, depth=1) as sink:
            for i in range(100):
                sink.put(i)


def test_encoder_error_leaves_no_output(tmp_path, tiny_checkpoint, monkeypatch, capsys):
    from audio2video.io import media
    from audio2video.errors import MediaError

    def broken(self, frames):
        raise MediaError(f"{self.path}: the encoder failed")

    monkeypatch.setattr(media.Mp4Writer, "write", broken)
    src = write_audio(tmp_path / "in.wav", seconds=4.0, rate=16000, channels=1)
    code = main(["generate", str(src), "-o", str(tmp_path / "out.mp4"), "--checkpoint", str(tiny_checkpoint), "-q"])
    assert code == 2 and "the encoder failed" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".mp4" or p.name.startswith(".")] == []


def test_cli_crossfade_flag_and_bad_value(tmp_path, tiny_checkpoint, capsys):
    src = write_audio(tmp_path / "in.wav", seconds=3.3, rate=16000, channels=1)
    out = tmp_path / "out.mp4"
    assert main(["generate", str(src), "-o", str(out), "--checkpoint", str(tiny_checkpoint), "--crossfade", "pixel",
                 "--batch-size", "1", "-q"]) == 0
    assert read_video_info(out)["frames"] == 99
    with pytest.raises(Exception, match="--crossfade"):
        GenerateOptions(crossfade="audio")


def test_help_does_not_import_torch():
    """`audio2video --help` and `audio2video generate --help` build every command's flags without torch."""
    code = ("import sys; from audio2video.cli import build_parser; p = build_parser(); p.format_help(); "
            "p._subparsers._group_actions[0].choices['generate'].format_help(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_start_up_imports_no_engine_and_pauses_the_collector():
    """The clip spec (which the model's config reads) loads without the procedural engine and torch; the data
    package's names still load on first use; `gc_paused` restores the collector, and freezes the start-up's
    objects when asked."""
    code = ("import sys; import audio2video.data.clip; print(sorted(m for m in ('torch', "
            "'audio2video.data.procedural') if m in sys.modules)); from audio2video.data import heldout_set, "
            "ClipSpec; import audio2video.data as d; print(callable(heldout_set), 'Palette' in dir(d))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True True"]
    import audio2video.data as data

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        data.Nope  # noqa: B018
    # in a child: gc_paused freezes every object (gc.freeze), which this test process should not have done to it
    code = """
import gc
from audio2video.cli.common import gc_paused
with gc_paused():
    assert not gc.isenabled()
assert gc.isenabled() and gc.get_freeze_count() == 0  # no freeze unless asked
try:
    with gc_paused(freeze=True):
        assert not gc.isenabled()
        objects = [[] for _ in range(1000)]
        raise RuntimeError
except RuntimeError:
    pass
assert gc.isenabled()
assert gc.get_freeze_count() >= 1000, gc.get_freeze_count()  # the start-up's objects are never scanned again
assert gc.get_count()[0] < 1000, gc.get_count()  # (they would have been, all at once, by the next collection)
gc.disable()
with gc_paused(freeze=True):
    pass
assert not gc.isenabled()  # off before: left off
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_only_the_console_script_freezes_the_start_up(monkeypatch, tmp_path):
    """`gc_paused` freezes the start-up's objects where the process is the command's alone (`entry`, the console
    script), not in a caller's process (`main`)."""
    import audio2video.cli.generate as generate_cli
    from audio2video.cli.main import main

    seen = []
    monkeypatch.setattr(generate_cli, "run", lambda args: seen.append(args.whole_process) or 0)
    assert main(["generate", str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.mp4")]) == 0
    assert seen == [False]
    code = ("import sys; import audio2video.cli.generate as g; from audio2video.cli.main import entry; "
            "g.run = lambda args: print('whole process:', args.whole_process) or 0; "
            f"sys.argv = ['audio2video', 'generate', {str(tmp_path / 'a.wav')!r}, '-o', 'a.mp4']; entry()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "whole process: True", out.stderr
