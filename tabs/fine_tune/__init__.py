"""The fine-tune tab: page and handlers (`ui`), data and metrics (`task`), training (`training_task`),
the "show code" scripts (`code_task`), strings (`locales/`), example data, test models."""
