"""The Attention tab: its UI and handler (`ui`), task logic (`task`), strings (`locales/`) and the
recipe of its test models (`test_models`)."""
