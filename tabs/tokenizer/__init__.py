"""The Tokenizer tab: its UI and handlers (`ui`), task logic (`task`), strings (`locales/`) and its test
catalog block (`test_models`)."""
