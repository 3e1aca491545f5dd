"""What turns many runs' numbers into conclusions: tables with intervals, outcome
labels, statistics, figures, the search's selection, the reproductions table, the
comparison of two result folders, and the whole config's validation.

It reads what ``metrics`` wrote (metrics.json, metrics.csv, samples.npz, calibration
files) and imports ``metrics`` and ``gans``' shared contracts (config, run folder
layout, records), never training code; neither imports it
(tests/unit/test_imports.py).
"""
