"""The visual QA tab: pages (`ui`, `text_ui`), task logic (`task`, `document_task`), strings, test models."""
