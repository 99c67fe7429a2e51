"""`generate`'s output shape: every aspect, fill, frame rate and span gives exactly the frames, size and audio it
should (read back from the mp4 with PyAV); and the pieces (layout, fills, frame-rate conversion, spans) alone."""
import itertools
from fractions import Fraction

import numpy as np
import pytest

from audio2video.cli import main
from audio2video.cli.shape_flags import parse_time
from audio2video.errors import UserError
from audio2video.io.media import read_video_info
from audio2video.pipelines.shape import (FILLS, FrameRateConverter, Layout, cut_span, fill_canvas, plan_layout,
                                         shape_frames)
from conftest import write_audio

SECONDS = 1.5
# (flags, the encoded width x height they must give); the tiny model's frames are 32 x 32
SHAPES = {
    "16:9 by height": (["--aspect", "16:9", "--size", "72"], (128, 72)),
    "9:16 by width": (["--aspect", "9:16", "--width", "36"], (36, 64)),
    "1:1": (["--aspect", "1:1", "--height", "48"], (48, 48)),
    "5:4 at model size": (["--aspect", "5:4"], (40, 32)),
    "width and height": (["--width", "100", "--height", "40"], (100, 40)),
}
RATES = {"model's 30": ([], 30), "24": (["--fps", "24"], 24), "60": (["--fps", "60"], 60)}
# (flags, the span in seconds they must give) of a 1.5 s input
SPANS = {"whole": ([], SECONDS), "from 0.4 s": (["--start", "0.4"], 1.1),
         "0.3 s + 0.7 s": (["--start", "0.3", "--duration", "0.7"], 0.7),
         "past the end": (["--start", "00:01.2", "--duration", "5"], 0.3)}


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """An AAC track: whole, its packets are copied; cut, it is re-encoded."""
    return write_audio(tmp_path_factory.mktemp("song") / "song.m4a", seconds=SECONDS, rate=44100, channels=2)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from conftest import tiny_model

    return tiny_model().save_pretrained(tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture(scope="module")
def render(song, checkpoint):
    """`generate SONG -o OUT FLAGS...` as the command runs it, with the model loaded and the song decoded once."""
    from audio2video.cli.main import build_parser
    from audio2video.cli.shape_flags import shape_options
    from audio2video.io.media import load_audio
    from audio2video.models import load_model
    from audio2video.pipelines.generate import GenerateOptions, generate_video

    model = load_model(checkpoint)
    audio, info = load_audio(song, model.config.sample_rate)

    def run(out, flags):
        args = build_parser().parse_args(["generate", str(song), "-o", str(out), *flags])
        options = GenerateOptions(progress=False, **shape_options(args))
        return generate_video(model, song, out, options, audio=audio, info=info)
    return run


@pytest.mark.parametrize("shape,fill,rate,span", list(itertools.product(SHAPES, FILLS, RATES, SPANS)))
def test_every_combination_gives_exact_frames_size_and_audio(tmp_path, render, shape, fill, rate, span):
    (shape_flags, size), (rate_flags, fps), (span_flags, seconds) = SHAPES[shape], RATES[rate], SPANS[span]
    out = tmp_path / "out.mp4"
    render(out, ["--fill", fill, *shape_flags, *rate_flags, *span_flags])
    info = read_video_info(out)
    assert info["frames"] == round(seconds * fps)
    assert (info["width"], info["height"]) == size
    assert info["fps"] == fps
    assert info["audio_seconds"] == pytest.approx(seconds, abs=1 / 44100)
    assert abs(info["video_seconds"] - info["audio_seconds"]) <= 0.5 / fps + 1e-9


def test_layout_fits_the_square_on_the_short_side():
    wide = plan_layout(128, 30, aspect="16:9", height=1080)
    assert wide.size == (1920, 1080) and wide.canvas == (228, 128) and wide.offset == (50, 0)
    tall = plan_layout(128, 30, aspect="9:16", height=1920)
    assert tall.size == (1080, 1920) and tall.canvas == (128, 228) and tall.offset == (0, 50)
    assert plan_layout(128, 30).size == (128, 128) and plan_layout(128, 30).canvas == (128, 128)
    assert plan_layout(128, 30, aspect="16:9").size == (228, 128)
    assert plan_layout(128, 30, fps="30000/1001").fps == Fraction(30000, 1001)
    assert plan_layout(128, 30, fps=29.97).fps == Fraction(2997, 100)


@pytest.mark.parametrize("kwargs,words", [
    (dict(aspect="16-9"), "--aspect"), (dict(aspect="0:1"), "--aspect"), (dict(aspect="20:1"), "--aspect"),
    (dict(height=33), "--size"), (dict(width=8), "--width"), (dict(aspect="1:1", width=64, height=64), "not all three"),
    (dict(fps=0), "--fps"), (dict(fps="fast"), "--fps"), (dict(fps=1000), "--fps")])
def test_bad_shapes_are_user_errors(kwargs, words):
    with pytest.raises(UserError, match=words):
        plan_layout(32, 30, **kwargs)


def frames(n=3, s=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, s, s, 3), dtype=np.uint8)


@pytest.mark.parametrize("fill", FILLS)
@pytest.mark.parametrize("canvas", [(20, 8), (8, 14), (8, 8), (37, 8)])
def test_fills_keep_the_frame_in_the_middle(fill, canvas):
    x = frames()
    layout = Layout(8, canvas, (canvas[0] * 2, canvas[1] * 2), Fraction(30))
    out = fill_canvas(x, layout, fill)
    assert out.shape == (3, canvas[1], canvas[0], 3) and out.dtype == np.uint8
    left, top = layout.offset
    assert np.array_equal(out[:, top:top + 8, left:left + 8], x)
    if canvas == (8, 8):
        assert out is x


def test_each_fill_fills_its_own_way():
    x = frames()
    layout = Layout(8, (20, 8), (40, 16), Fraction(30))  # the frame at columns 6..13
    assert not fill_canvas(x, layout, "black")[:, :, :6].any()
    mirror = fill_canvas(x, layout, "mirror")
    assert np.array_equal(mirror[:, :, 5], x[:, :, 0]) and np.array_equal(mirror[:, :, 14], x[:, :, 7])
    tile = fill_canvas(x, layout, "tile")
    assert np.array_equal(tile[:, :, 14:20], x[:, :, :6]) and np.array_equal(tile[:, :, :6], x[:, :, 2:])
    blur = fill_canvas(x, layout, "blur").astype(np.float64)
    assert blur[:, :, :6].std() < x.std() / 2, "the sides are a smooth, dimmed copy"


def test_unknown_fill_is_a_user_error():
    with pytest.raises(UserError, match="--fill"):
        fill_canvas(frames(), Layout(8, (20, 8), (40, 16), Fraction(30)), "stretch")


def convert(x, src, dst, total, chunks):
    conv = FrameRateConverter(Fraction(src), Fraction(dst), total)
    parts = [conv.push(x[a:b]) for a, b in zip([0, *chunks], [*chunks, len(x)])]
    tail = conv.flush()
    return np.concatenate([*parts, *([tail] if tail is not None else [])])


@pytest.mark.parametrize("src,dst", [(30, 24), (30, 60), (30, 25), (30, Fraction(30000, 1001)), (30, 12)])
def test_frame_rate_conversion_is_exact_and_streams(src, dst):
    x = frames(n=45, s=4, seed=1)
    total = round(Fraction(45, src) * dst)
    whole = convert(x, src, dst, total, [])
    assert len(whole) == total
    for chunks in ([1, 2, 3], [10, 11, 30], list(range(1, 45))):
        assert np.array_equal(convert(x, src, dst, total, chunks), whole), chunks
    # output frame j shows the input at time j / dst: frames that land on an input frame are that frame
    for j in range(total):
        p = Fraction(j * src) / dst
        if p.denominator == 1:
            assert np.array_equal(whole[j], x[int(p)])


def test_doubling_the_rate_blends_neighbours_and_holds_the_last_frame():
    x = np.stack([np.full((2, 2, 3), v, np.uint8) for v in (0, 100, 200)])
    out = convert(x, 30, 60, 6, [1])
    assert out[:, 0, 0, 0].tolist() == [0, 50, 100, 150, 200, 200]


def test_shape_frames_passes_the_model_frames_through_by_default():
    batches = [frames(n=4, s=8, seed=k) for k in range(3)]
    out = list(shape_frames(batches, plan_layout(8, 30), 12, 30))
    assert all(a is b for a, b in zip(out, batches))


def test_spans_cut_like_ffmpeg():
    assert cut_span(10.0) == cut_span(10.0, 0, None)
    assert cut_span(10.0, 2.5).seconds == 7.5 and cut_span(10.0, 2.5, 3).seconds == 3
    assert cut_span(10.0, 8, 5).seconds == 2, "-t past the end stops at the end"
    assert cut_span(10.0, 1, 3).frames(30) == 90 and cut_span(1.0, 0, 0.01).frames(30) == 1
    for args in ((10.0, 10.0), (10.0, 12), (10.0, -1), (10.0, 0, 0)):
        with pytest.raises(UserError, match="--start"):
            cut_span(*args)


@pytest.mark.parametrize("text,seconds", [("12", 12), ("12.5", 12.5), ("1500ms", 1.5), ("250us", 0.00025),
                                          ("3s", 3), ("01:30", 90), ("1:02:03.5", 3723.5), ("00:00.25", 0.25)])
def test_times_read_like_ffmpeg(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "-3", "1:75", "abc", "1:2:3:4", "1:30s"])
def test_bad_times_are_refused(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse_time(text)


def test_start_past_the_end_is_one_line(tmp_path, song, checkpoint, capsys):
    out = tmp_path / "out.mp4"
    assert main(["generate", str(song), "-o", str(out), "--checkpoint", str(checkpoint), "--start", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "past the end" in err[0] and not out.exists()
