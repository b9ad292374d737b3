"""Getting a model into memory: the model manager and its cache (`model_manager`), loaders for tasks
with no transformers pipeline (`adapters`), devices and dtypes (`devices`), ZeroGPU (`gpu`), Hub access
(`hub`) and what a failed load tells the user (`load_errors`). Imports `core` and `config`; the
adapters also load two model wrappers from `playground.tasks` (to move with those modules)."""
