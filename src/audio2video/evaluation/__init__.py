"""Evaluation: held-out clips (clips), scoring through the metric registry (scoring), bootstrap intervals
(bootstrap), reports (report), plots (plots) and the evaluate / compare / av-align runs (run)."""
