"""Looks: `none` is no processing at all, every other look changes the frames, and `looks` lists them."""
import numpy as np
import pytest

from audio2video.cli import main
from audio2video.errors import UserError
from audio2video.io.media import iter_video_frames
from audio2video.pipelines.looks import LOOKS, get_look
from conftest import SAME_BYTES, assert_same_file, write_audio


def colourful(n=4, s=16):
    """Frames with every kind of pixel a model makes: dark, light, grey, saturated, smooth ramps."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, s * s).reshape(s, s)
    base = np.stack([ramp, ramp.T, 255 - ramp], axis=-1)
    return np.clip(base[None] + rng.normal(0, 20, (n, s, s, 3)), 0, 255).astype(np.uint8)


def test_none_leaves_the_frames_untouched():
    x = colourful()
    assert get_look("none")(x) is x


@pytest.mark.parametrize("name", [n for n in LOOKS if n != "none"])
def test_each_look_changes_the_frames(name):
    x = colourful()
    y = LOOKS[name](x)
    assert y.shape == x.shape and y.dtype == np.uint8
    assert np.abs(y.astype(int) - x).mean() > 5, "a look must visibly change the picture"
    assert np.array_equal(LOOKS[name](x[:1]), y[:1]), "frame by frame: no state between batches"


def test_gradient_maps_follow_luminance_dark_to_light():
    grey = np.repeat(np.arange(0, 256, 15, dtype=np.uint8)[None, :, None], 3, axis=2)[None]  # (1, 1, 18, 3)
    for name in ("neon", "ember", "ocean", "noir"):
        luma = LOOKS[name](grey)[0, 0].astype(float) @ [0.299, 0.587, 0.114]
        assert luma[0] < 10 and luma[-1] > 200, name
        assert np.all(np.diff(luma) >= -1), f"{name}: darker in, darker out"
    noir = LOOKS["noir"](colourful())
    assert (noir[..., 0] == noir[..., 1]).all() and (noir[..., 1] == noir[..., 2]).all(), "noir is black and white"


def test_hue_rotation_keeps_grey_and_turns_colours():
    look = LOOKS["complement"]
    grey = np.full((1, 2, 2, 3), 128, np.uint8)
    assert np.abs(look(grey).astype(int) - look.tone_curve()[128]).max() <= 1
    red = np.zeros((1, 1, 1, 3), np.uint8)
    red[..., 0] = 200
    out = look(red)[0, 0, 0]
    assert out[0] < out[1] and out[0] < out[2], "red turns toward cyan"


def test_unknown_look_is_a_user_error_naming_the_choices():
    with pytest.raises(UserError, match="neon"):
        get_look("sepia-ish")


def test_looks_command_lists_every_look(capsys):
    assert main(["looks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, look in LOOKS.items():
        assert any(line.split()[:1] == [name] and look.description in line for line in lines), name


def test_look_none_is_bit_identical_to_no_flag_and_a_look_is_not(tmp_path, tiny_checkpoint):
    src = write_audio(tmp_path / "in.wav", seconds=1.5, rate=16000, channels=1)
    outs = {}
    for name, flags in (("plain", []), ("none", ["--look", "none"]), ("neon", ["--look", "neon"])):
        outs[name] = tmp_path / f"{name}.mp4"
        assert main(["generate", str(src), "-o", str(outs[name]), "--checkpoint", str(tiny_checkpoint), "-q",
                     *SAME_BYTES, *flags]) == 0
    assert_same_file(outs["plain"], outs["none"])
    plain, neon = (np.stack(list(iter_video_frames(outs[k]))) for k in ("plain", "neon"))
    assert plain.shape == neon.shape
    assert np.abs(plain.astype(int) - neon).mean() > 5
