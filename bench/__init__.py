"""Benchmarks: this app against the bare pipeline and the tutorial's plain Gradio demo (`make bench`)."""
