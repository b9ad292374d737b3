"""Task logic, one module a task: pure functions the tabs call (no Gradio, no tabs/)."""
