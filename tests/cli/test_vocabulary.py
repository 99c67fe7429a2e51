"""One vocabulary: -o/--output wherever a command writes, -n/--num, --checkpoint defaulting to the shipped model,
--version; the old spellings still work for a release and each says so in one line on stderr."""
import argparse

import pytest

from audio2video import __version__
from audio2video.cli import main
from audio2video.cli.main import build_parser
from audio2video.io.media import read_video_info
from audio2video.models import modeling
from conftest import assert_same_file


def deprecation_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "deprecated" in line]


@pytest.mark.parametrize("argv,dest,value,old,new", [
    (["evaluate", "--out", "x"], "output", "x", "--out", "-o/--output"),
    (["compare", "a", "b", "--out", "x"], "output", "x", "--out", "-o/--output"),
    (["evaluate", "-o", "x", "--n", "3"], "num", 3, "--n", "-n/--num"),
    (["compare", "a", "b", "-o", "x", "--n", "3"], "num", 3, "--n", "-n/--num"),
    (["demo", "--out", "x"], "output", "x", "--out", "-o/--output"),
])
def test_old_spellings_parse_and_say_what_replaces_them(capsys, argv, dest, value, old, new):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    lines = deprecation_lines(capsys.readouterr().err)
    assert len(lines) == 1 and old in lines[0] and new in lines[0]


@pytest.mark.parametrize("argv,dest,value", [
    (["evaluate", "-o", "x", "-n", "3"], "num", 3), (["evaluate", "--output", "x", "--num", "3"], "num", 3),
    (["compare", "a", "b", "--output", "x"], "output", "x"), (["demo", "-o", "x"], "output", "x"),
    (["synth", "--num", "2", "-o", "x"], "num", 2), (["synth", "-n", "2", "--output", "x"], "num", 2),
    (["export", "ckpt", "-o", "x"], "output", "x"), (["generate", "a.wav", "--output", "x.mp4"], "output", "x.mp4"),
    (["visualize", "a.wav", "--output", "x.mp4"], "output", "x.mp4"),
    (["generate", "a.wav", "-o", "x.mp4", "--height", "720"], "size", 720),
    (["generate", "a.wav", "-o", "x.mp4", "--size", "720"], "size", 720),
])
def test_new_spellings_are_quiet(capsys, argv, dest, value):
    assert getattr(build_parser().parse_args(argv), dest) == value
    assert not deprecation_lines(capsys.readouterr().err)


WRITES = {"generate", "visualize", "synth", "demo", "evaluate", "compare", "export"}  # train writes to --run-dir
COUNTS = {"synth", "evaluate", "compare"}


def test_every_command_speaks_the_one_vocabulary():
    """-o/--output exactly where a command writes a file or folder, -y/--overwrite wherever it writes (train too),
    -n/--num wherever there is a count, and no command spells them any other visible way."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        flags = {s: a for a in p._actions for s in a.option_strings}
        visible = {s for s, a in flags.items() if a.help != argparse.SUPPRESS}
        assert ({"-o", "--output"} <= visible) == (name in WRITES), name
        assert ({"-y", "--overwrite"} <= visible) == (name in WRITES | {"train"}), name
        assert ({"-n", "--num"} <= visible) == (name in COUNTS), name
        assert not visible & {"--out", "--n", "--output-dir", "--outdir", "--count"}, name
        if "-o" in flags:
            assert flags["-o"] is flags["--output"] and flags["-o"].dest == "output", name


def test_defaults_stay_what_they_were():
    assert build_parser().parse_args(["evaluate", "-o", "x"]).num == 64
    assert build_parser().parse_args(["demo"]).output == "demo_out"
    assert build_parser().parse_args(["evaluate", "-o", "x"]).checkpoint is None, "the shipped model"


def test_version(capsys):
    assert main(["--version"]) == 0  # main() returns the exit code, for --version and --help too
    assert capsys.readouterr().out.strip() == f"audio2video {__version__}"


def test_info_describes_the_shipped_model_by_default(capsys, tiny_checkpoint):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    shipped = modeling.load_model()  # its size follows the shipped recipe (the spec's 8,236,611 plus its additions)
    assert "the shipped model" in out and f"{sum(p.numel() for p in shipped.parameters()):,}" in out
    assert main(["info", "--kind", "legacy"]) == 0 and "51,213,728" in capsys.readouterr().out
    assert main(["info", "--checkpoint", str(tiny_checkpoint)]) == 0 and str(tiny_checkpoint) in capsys.readouterr().out
    assert main(["info", "--checkpoint", str(tiny_checkpoint), "--kind", "hybrid"]) == 2


def test_export_old_positional_output_still_works(tmp_path, tiny_checkpoint, capsys):
    assert main(["export", str(tiny_checkpoint), str(tmp_path / "old")]) == 0
    assert len(deprecation_lines(capsys.readouterr().err)) == 1
    assert main(["export", str(tiny_checkpoint), "-o", str(tmp_path / "new")]) == 0
    assert not deprecation_lines(capsys.readouterr().err)
    assert_same_file(tmp_path / "old" / "model.safetensors", tmp_path / "new" / "model.safetensors")
    assert main(["export", str(tiny_checkpoint)]) == 2 and "-o/--output" in capsys.readouterr().err


def test_demo_with_the_old_out_flag_writes_where_it_says(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "d"
    assert main(["demo", "--out", str(out), "--seconds", "1", "--checkpoint", str(tiny_checkpoint)]) == 0
    captured = capsys.readouterr()
    assert len(deprecation_lines(captured.err)) == 1
    assert read_video_info(out / "demo.mp4")["frames"] == 30


def test_evaluate_needs_an_output_and_defaults_to_the_shipped_model(tmp_path, tiny_checkpoint, monkeypatch, capsys):
    assert main(["evaluate", "-n", "2"]) == 2 and "-o/--output" in capsys.readouterr().err
    monkeypatch.setattr(modeling, "shipped_model_dir", lambda: tiny_checkpoint)  # a fast stand-in for the real one
    out = tmp_path / "eval"
    assert main(["evaluate", "-o", str(out), "--num", "2", "--examples", "1", "-q"]) == 0
    assert (out / "metrics.json").is_file()
    report = (out / "report.md").read_text()
    assert "audio2video evaluate -o" in report and "--checkpoint" not in report.split("audio2video evaluate")[1][:80]
