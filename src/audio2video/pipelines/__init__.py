"""Pipelines: the model applied to whole inputs (generate: windows, cross-fade; batch: many inputs, a report)
and the two commands that make media from the procedural engine (demo, synth)."""
