"""fashiongraph benchmarks: kernels against their references, and the pipeline at H&M scales.

Run from the repository root with the project's Python (``make bench`` or
``python -m benchmarks --help``); ``benchmarks/README.md`` explains every command and output.
Nothing here is a test: speed targets live in these reports, never in timed unit tests.
"""
