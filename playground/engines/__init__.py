"""Generation behind one interface (`generation`): in-process (`local_generation`), batched
(`batched_generation`), remote OpenAI-compatible endpoints (`remote_engine`), batched speech
recognition (`speech_batching`), the registry of engines in use (`generation_engines`) and stream
pacing (`pacing`). Imports `core`, `config` and `loading`."""
