"""Many inputs at once: pair each input with its output, validate them all, render the valid ones, report."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MediaError, UserError
from ..io.files import MEDIA_SUFFIXES, files_in
from ..io.media import AudioInfo, load_audio, probe_audio

# renders one input: (input, output, its audio at the renderer's rate, its AudioInfo) -> {"frames", "seconds", ...}
Renderer = Callable[[Path, Path, np.ndarray, AudioInfo], dict]


@dataclass
class Job:
    input: Path
    output: Path
    error: str | None = None


@dataclass
class BatchReport:
    done: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[Job] = field(default_factory=list)


def collect_inputs(inputs: list[str | Path]) -> tuple[list[Path], bool]:
    """Expand folders into their media files (sorted). Returns (files, whether this is a batch)."""
    files: list[Path] = []
    batch = len(inputs) > 1
    for item in map(Path, inputs):
        if item.is_dir():
            batch = True
            found = files_in(item, MEDIA_SUFFIXES)
            if not found:
                raise UserError(f"{item}: folder holds no audio or video files")
            files += found
        else:
            files.append(item)
    return files, batch


def plan_jobs(files: list[Path], output: Path, batch: bool) -> list[Job]:
    """Pair each input with its output path: `output` itself, or `output/<input stem>.mp4` for a batch."""
    if not batch:
        if output.is_dir():
            return [Job(files[0], output / f"{files[0].stem}.mp4")]
        if output.suffix.lower() != ".mp4":
            raise UserError(f"{output}: the output must be an .mp4 file (or a folder for several inputs)")
        return [Job(files[0], output)]
    if output.exists() and not output.is_dir():
        raise UserError(f"{output}: with several inputs, -o must name a folder, not a file")
    stems = [f.stem for f in files]
    jobs = []
    for f in files:
        name = f.stem if stems.count(f.stem) == 1 else f"{f.stem}_{f.suffix.lstrip('.')}"
        jobs.append(Job(f, output / f"{name}.mp4"))
    return jobs


def check_output(job: Job) -> None:
    out = job.output
    if out.resolve() == job.input.resolve():
        raise MediaError(f"{out}: the output would overwrite its own input")
    if out.is_dir():
        raise MediaError(f"{out}: output is a directory")
    if not out.parent.is_dir():
        raise MediaError(f"{out}: output folder {out.parent} does not exist")


def run_batch(render: Renderer, sample_rate: int, jobs: list[Job], skip_existing: bool = False,
              log=print) -> BatchReport:
    """Validate every job, then render the valid ones with `render` (the model's `generate`, or the
    visualizers); a failing input never stops the others."""
    report = BatchReport()
    todo = []
    for job in jobs:
        if skip_existing and job.output.exists():
            report.skipped.append(job)
            continue
        try:
            check_output(job)
            probe_audio(job.input)
            todo.append(job)
        except UserError as e:
            job.error = str(e)
            report.failed.append(job)
    for job in todo:
        try:
            audio, info = load_audio(job.input, sample_rate)
            result = render(job.input, job.output, audio, info)
            log(f"wrote {job.output} ({result['frames']} frames, {result['seconds']:.1f} s)")
            report.done.append(job)
        except UserError as e:
            job.error = str(e)
            report.failed.append(job)
    return report
