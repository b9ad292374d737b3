"""Task logic, one module a task: importable and testable without Gradio (the tabs build the UI on it)."""
