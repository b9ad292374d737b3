"""Task logic without a UI: one module a task, importable and testable without Gradio."""
