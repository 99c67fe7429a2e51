"""Reports: metrics.json (strict JSON), report.md for evaluate and compare, and number formatting."""
from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..io.files import atomic_write_text
from ..metrics import AGGREGATION_NOTE, METRIC_NAMES, METRICS
from .bootstrap import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED


def jsonable(x):
    """NaN -> null, ±inf -> "inf"/"-inf" (strict JSON has neither), numpy scalars -> Python numbers."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(jsonable(data), indent=1, allow_nan=False) + "\n")


def fmt(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    x = float(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}".replace("-", "−")
    return f"{x:.{digits}g}".replace("-", "−") if abs(x) < 10 else f"{x:.{max(1, digits - 2)}f}".replace("-", "−")


def _ci(ci: tuple[float, float]) -> str:
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _truth_column(r: dict) -> dict[str, str]:
    """What the ground truth scores on each metric: fixed by definition, or measured on these clips."""
    return {m: METRICS[m].ideal or fmt(r["ground_truth"].get(m)) for m in METRIC_NAMES}


def _definitions_md() -> list[str]:
    lines = ["## Definitions", ""]
    lines += [f"- **{m.name}** ({m.better} is better): {m.definition}" for m in METRICS.values()]
    lines += ["", AGGREGATION_NOTE + " 95% intervals: bootstrap over clips, "
              f"{BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}, percentile method. AV-Align is the 2025-fixed "
              "reference variant (one-to-one matching within ±1/fps), computed on the 8-bit frames in memory; "
              "published AV-Align numbers come from several variants, so compare only numbers computed the same way. "
              "See docs/evaluation.md."]
    return lines


def evaluate_report(r: dict, plots: list[str]) -> str:
    c = r["checkpoint"]
    truth_col = _truth_column(r)
    lines = [f"# Evaluation of `{c['path']}`", "",
             f"Model: {c['kind']}, {c['parameters']:,} parameters. Data: {r['data']}.", ""]
    if r.get("command"):
        lines += ["```bash", r["command"], "```", ""]
    lines += ["| metric | better | model | 95% CI | ground truth | clips |", "| --- | --- | --- | --- | --- | --- |"]
    for m in METRIC_NAMES:
        lines.append(f"| {m} | {METRICS[m].better} | {fmt(r['metrics'][m])} | {_ci(r['ci95'][m])} | {truth_col[m]} "
                     f"| {r['clips_counted'][m]} |")
    lines += ["", f"silence_response is computed over the {r['clips_with_silence']} of {r['clips']} clips that have "
              "a silent segment; n/a means undefined (no silence, or the video does not move while sound plays — "
              "a fail, not a perfect score).", ""]
    lines += _plot_section(plots)
    lines += [""] + _definitions_md()
    return "\n".join(lines) + "\n"


def _plot_section(plots: list[str]) -> list[str]:
    lines = ["## Plots", "", "![metrics](metrics.png)", ""]
    for p in plots[1:]:
        kind = "Frames (ground truth on top)" if p.startswith("strip_") else "Onset envelope and motion curves"
        lines += [f"{kind}, {p.split('_', 1)[1].rsplit('.', 1)[0]}:", "", f"![{p}]({p})", ""]
    return lines


def compare_report(r: dict, labels: list[str], plots: list[str], videos: list[str]) -> str:
    base = labels[0]
    lines = ["# Comparison: " + " vs ".join(f"`{x}`" for x in labels), ""]
    for c in r["checkpoints"]:
        lines.append(f"- **{c['name']}**: `{c['path']}` — {c['kind']}, {c['parameters']:,} parameters")
    lines += ["", f"Data: {r['data']}.", ""]
    if r.get("command"):
        lines += ["```bash", r["command"], "```", ""]
    head = "| metric | better | " + " | ".join(labels) + " | ground truth |"
    lines += ["Each model's aggregate with its bootstrap 95% interval:", "", head,
              "| --- " * (len(labels) + 3) + "|"]
    truth_col = _truth_column(r)
    for m in METRIC_NAMES:
        cells = [f"{fmt(r['models'][x]['metrics'][m])} {_ci(r['models'][x]['ci95'][m])}" for x in labels]
        lines.append(f"| {m} | {METRICS[m].better} | " + " | ".join(cells) + f" | {truth_col[m]} |")
    for key, diffs in r["differences"].items():
        label = key.split(" - ")[0]
        lines += ["", f"Paired differences {label} − {base} over the same clips (bootstrap 95% CI; the verdict "
                  "needs the interval of the improvement to exclude 0):", "",
                  f"| metric | better | {label} − {base} | 95% CI | verdict | clips |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for m in METRIC_NAMES:
            d = diffs[m]
            lines.append(f"| {m} | {METRICS[m].better} | {fmt(d['point'])} | {_ci(d['ci95'])} | {d['verdict']} "
                         f"| {d['clips']} |")
    lines += ["", f"silence_response is computed over the {r['clips_with_silence']} of {r['clips']} clips that have a "
              "silent segment; n/a means undefined (no silence, or the video does not move while sound plays).", ""]
    lines += ["## Side-by-side videos (ground truth | " + " | ".join(labels) + ", with the audio)", ""]
    lines += [f"- [{v}]({v})" for v in videos] + [""]
    lines += _plot_section(plots)
    lines += [""] + _definitions_md()
    return "\n".join(lines) + "\n"


def command_line(words: Sequence[str]) -> str:
    """A shell command line from words, quoted where needed (for reports: how to reproduce them)."""
    return " ".join(shlex.quote(str(w)) for w in words)
