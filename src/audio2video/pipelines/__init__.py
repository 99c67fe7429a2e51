"""Pipelines: the model applied to whole inputs (generate: windows, cross-fade; generate_options: what it is
asked, checked without torch; batch: many inputs, a report)
and the two commands that make media from the procedural engine (demo, synth)."""
