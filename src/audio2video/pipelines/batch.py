"""Many inputs at once: pair each input with its output, validate them all, render the valid ones, report.

Every output name is fixed, and checked against every other output, every input and what exists on disk, before
any work starts; after that one input's failure, whatever it is, is reported and skipped.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MediaError, UserError, describe
from ..io.files import (MEDIA_SUFFIXES, OVERWRITE_HINT, check_new_file, file_key, file_problem, files_in, make_dirs,
                        remove_empty, same_file)
from ..io.media import AudioInfo, load_audio, probe_audio

# renders one input: (input, output, its audio at the renderer's rate, its AudioInfo) -> {"frames", "seconds", ...}
Renderer = Callable[[Path, Path, np.ndarray, AudioInfo], dict]


@dataclass
class Job:
    input: Path
    output: Path
    error: str | None = None
    exception: Exception | None = None  # what failed it, for a single input (the CLI's exit code)


@dataclass
class BatchReport:
    done: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[Job] = field(default_factory=list)


def collect_inputs(inputs: list[str | Path]) -> tuple[list[Path], bool]:
    """Expand folders into their media files (sorted); the same file named twice counts once. Returns (files,
    whether this is a batch)."""
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
    seen: set[tuple] = set()
    unique: list[Path] = []
    for f in files:
        if (key := file_key(f)) not in seen:
            seen.add(key)
            unique.append(f)
    if not batch and (problem := file_problem(unique[0])):  # one input: say so before loading any model
        raise UserError(f"{unique[0]}: {problem}")
    return unique, batch


def _names(files: list[Path]) -> list[str]:
    """Each input's output name: its stem, or stem_suffix where two inputs share a stem."""
    stems = Counter(f.stem.casefold() for f in files)
    return [f.stem if stems[f.stem.casefold()] == 1 else f"{f.stem}_{f.suffix.lstrip('.')}" for f in files]


def plan_jobs(files: list[Path], output: Path, batch: bool, overwrite: bool = False,
              skip_existing: bool = False) -> list[Job]:
    """Pair each input with its output path (`output` itself, or `output/<input stem>.mp4` for a batch) and
    refuse, before any work: two inputs that would write the same file, an output that is an input, and (unless
    `overwrite` or `skip_existing`) outputs that exist."""
    if not batch:
        if output.is_dir():
            jobs = [Job(files[0], output / f"{files[0].stem}.mp4")]
        elif output.suffix.lower() != ".mp4":
            raise UserError(f"{output}: the output must be an .mp4 file (or a folder for several inputs)")
        else:
            jobs = [Job(files[0], output)]
    else:
        if output.exists() and not output.is_dir():
            raise UserError(f"{output}: with several inputs, -o must name a folder, not a file")
        jobs = [Job(f, output / f"{name}.mp4") for f, name in zip(files, _names(files))]
    seen: dict[str, Job] = {}
    inputs = {file_key(f): f for f in files}
    for job in jobs:
        key = job.output.name.casefold()  # case-insensitive file systems make A.mp4 and a.mp4 one file
        if key in seen:
            raise UserError(f"{seen[key].input} and {job.input} would both be written to {job.output}; "
                            "rename one of them, or render them in separate runs")
        seen[key] = job
        clash = inputs.get(file_key(job.output))
        if clash is not None and clash is not job.input:
            raise UserError(f"{job.output}: the output for {job.input} would overwrite the input {clash}")
    existing = [job.output for job in jobs if job.output.exists() and not same_file(job.output, job.input)]
    if existing and not (overwrite or skip_existing):
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        hint = OVERWRITE_HINT + (", or --skip-existing to keep it" if batch else "")
        raise UserError(f"{existing[0]}: exists{more}; {hint}")
    return jobs


def check_output(job: Job, overwrite: bool = False) -> None:
    if same_file(job.output, job.input):
        raise MediaError(f"{job.output}: the output would overwrite its own input")
    check_new_file(job.output, overwrite)


def run_batch(render: Renderer, sample_rate: int, jobs: list[Job], skip_existing: bool = False,
              log=print, overwrite: bool = False, folder: Path | None = None) -> BatchReport:
    """Validate every job, then render the valid ones with `render` (the model's `generate`, or the
    visualizers); a failing input, whatever the failure, never stops the others (Ctrl-C and SIGTERM do).
    `folder`, if given, is created first (and removed again if it ends up empty)."""
    report = BatchReport()
    created = make_dirs(folder) if folder is not None else []
    todo = []
    try:
        for job in jobs:
            if skip_existing and job.output.exists():
                report.skipped.append(job)
                continue
            if _attempt(job, report, lambda: (check_output(job, overwrite), probe_audio(job.input))):
                todo.append(job)
        for job in todo:
            def one(job=job):
                audio, info = load_audio(job.input, sample_rate)
                result = render(job.input, job.output, audio, info)
                log(f"wrote {job.output} ({result['frames']} frames, {result['seconds']:.1f} s)")
            if _attempt(job, report, one):
                report.done.append(job)
    finally:
        remove_empty(created)
    return report


def _attempt(job: Job, report: BatchReport, work: Callable[[], object]) -> bool:
    """Run `work` for `job`; any failure (not Ctrl-C or SIGTERM) is recorded on the job and in the report."""
    try:
        work()
        return True
    except Exception as e:  # noqa: BLE001 - one bad input must not end the batch; describe() words any failure
        message = describe(e)
        job.error = message if str(job.input) in message else f"{job.input}: {message}"
        job.exception = e
        report.failed.append(job)
        return False
