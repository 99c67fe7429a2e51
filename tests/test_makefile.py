"""The Makefile's set-up picks the torch build the machine can use (issue 14): with no torch in .venv, the CPU-only
build from PyTorch's CPU index where there is no NVIDIA driver (and not a Mac), PyPI's own build with `nvidia-smi`
or on macOS, and PyPI's after a note when the CPU index cannot be reached. `make install` runs for real, against a
stand-in python3 that records what pip is asked to do, so nothing is downloaded or installed."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MAKE = shutil.which("make")

# python3 and .venv/bin/python: `-m venv DIR` makes DIR/bin/python (this script), `-c "import torch"` fails unless
# FAKE_TORCH is set, `-m pip ARGS` appends ARGS to $FAKE_LOG (and fails for the CPU index when FAKE_INDEX_DOWN is set)
FAKE_PYTHON = """#!/bin/sh
case "$1" in
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit $?; fi
      shift 2; echo "pip $*" >> "$FAKE_LOG"
      case "$*" in *--index-url*) [ -z "$FAKE_INDEX_DOWN" ] || exit 1;; esac; exit 0;;
  -c) [ -n "$FAKE_TORCH" ]; exit $?;;
esac
exit 2
"""


def make_install(tmp_path: Path, nvidia: bool = False, system: str = "Linux", torch: bool = False,
                 index_down: bool = False) -> tuple[list[str], str]:
    """`make install` into a fresh .venv under tmp_path on a machine of this kind: the pip commands it ran and
    what it printed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mkdir", "cp", "touch"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    scripts = {"python3": FAKE_PYTHON, "uname": f"#!/bin/sh\necho {system}\n"}
    if nvidia:
        scripts["nvidia-smi"] = "#!/bin/sh\nexit 0\n"
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "pip.log"
    env = {"PATH": str(bin_dir), "FAKE_LOG": str(log), "FAKE_TORCH": "1" if torch else "",
           "FAKE_INDEX_DOWN": "1" if index_down else "", "HOME": str(tmp_path)}
    done = subprocess.run([MAKE, "-C", str(ROOT), "install", f"VENV={tmp_path / 'venv'}",
                           f"PYTHON={bin_dir / 'python3'}"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "venv" / ".installed").is_file()
    return log.read_text().splitlines() if log.exists() else [], done.stdout


pytestmark = pytest.mark.skipif(MAKE is None or os.name != "posix", reason="needs make and a POSIX shell")
PACKAGE = "pip install -e .[test,eval,onnx]"


def test_no_nvidia_driver_gets_the_cpu_only_build(tmp_path):
    pip, out = make_install(tmp_path)
    assert pip == [f"pip install --no-deps --index-url {CPU_INDEX} torch==2.13.0",  # never PyPI's CUDA build
                   "pip install torch==2.13.0",  # its dependencies, from the usual index (torch is already there)
                   PACKAGE]
    assert "CPU-only build" in out


@pytest.mark.parametrize("machine", [dict(nvidia=True), dict(system="Darwin")], ids=["nvidia-smi", "macOS"])
def test_a_cuda_machine_or_a_mac_gets_pypis_build(tmp_path, machine):
    pip, _ = make_install(tmp_path, **machine)
    assert pip == ["pip install torch==2.13.0", PACKAGE]


def test_an_unreachable_cpu_index_falls_back_with_a_note(tmp_path):
    pip, out = make_install(tmp_path, index_down=True)
    assert pip == [f"pip install --no-deps --index-url {CPU_INDEX} torch==2.13.0", "pip install torch==2.13.0",
                   PACKAGE]
    assert f"note: {CPU_INDEX} could not be used" in out


def test_a_venv_with_torch_keeps_it(tmp_path):
    pip, _ = make_install(tmp_path, torch=True)
    assert pip == [PACKAGE]
