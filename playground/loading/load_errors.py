"""Why a model did not load, in words that say how to fix it (English and Korean).

`explain_load_error` sorts whatever loading raised (Hub errors, missing or corrupt files, remote code,
memory) into a `ModelLoadError`: a stable `reason` code and the message in every UI language.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playground.config.catalog import ModelEntry
from playground.core.texts import LANGUAGES, SHARED_LOCALES, LocalizedError, Texts

TEXTS = Texts.load("load_errors", SHARED_LOCALES)


class ModelLoadError(LocalizedError):
    """A model that could not be loaded; `reason` is a stable code, the message says how to fix it.

    The message is TEXTS[key] in every UI language (a parameter may itself be per language: a
    {lang: text} dict); `in_language` picks the caller's.
    """

    def __init__(self, reason: str, key: str, **params: Any):
        super().__init__(
            {
                lang: TEXTS.get(
                    key,
                    lang,
                    **{name: value[lang] if isinstance(value, dict) else value for name, value in params.items()},
                )
                for lang in LANGUAGES
            }
        )
        self.reason = reason


class UnknownModelError(ModelLoadError):
    def __init__(self, key: str, **params: Any):
        super().__init__("unknown_model", key, **params)


def explain_load_error(exc: BaseException, entry: ModelEntry, folder: Path | None) -> ModelLoadError:
    """Turn whatever loading raised into a reason code and a message that says what to do.

    `folder` is where the model's files are on this machine (its local folder or Hub cache
    snapshot), None when there is none.
    """
    from huggingface_hub import errors as hub_errors

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    name = entry.label or entry.id

    def has(kind: type) -> bool:
        return any(isinstance(e, kind) for e in chain)

    # GatedRepoError is a RepositoryNotFoundError, whose message also mentions "gated repo".
    not_found = has(hub_errors.RepositoryNotFoundError) and not has(hub_errors.GatedRepoError)
    if has(hub_errors.GatedRepoError) or ("gated repo" in text.lower() and not not_found):
        return ModelLoadError("gated", "gated", name=name, id=entry.id)
    if has(MemoryError) or "out of memory" in text.lower() or "OutOfMemoryError" in text:
        return ModelLoadError("out_of_memory", "out_of_memory", name=name)
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    if has(hub_errors.LocalEntryNotFoundError) or "local cache" in text or "couldn't connect" in text.lower():
        how = TEXTS.render("offline_not_cached" if offline else "hub_unreachable")
        return ModelLoadError("not_cached", "not_cached", name=name, how=how, id=entry.id)
    if "contains custom code which must be executed" in text or "trust_remote_code" in text:
        return ModelLoadError("remote_code", "remote_code", name=name)
    if has(hub_errors.RepositoryNotFoundError) or has(hub_errors.RevisionNotFoundError):
        return ModelLoadError("not_found", "not_on_hub", name=name, id=entry.id)
    if entry.is_local and folder is None:
        return ModelLoadError("not_found", "no_folder", name=name, id=entry.id)
    if "safetensors" in text.lower() and ("no file" in text.lower() or "does not appear to have" in text.lower()):
        if folder is not None and not any(folder.glob("*.bin")):
            return ModelLoadError("missing_files", "no_weights", name=name)
        return ModelLoadError("no_safetensors", "no_safetensors", name=name)
    corrupt_markers = (
        "deserializ",
        "header too large",
        "invalid load key",
        "unexpected eof",
        "incomplete metadata",
        "safetensorerror",
    )
    if any(marker in text.lower() for marker in corrupt_markers):
        return ModelLoadError("corrupt", "corrupt", name=name)
    if has(OSError) and ("does not appear to have" in text or "no file named" in text.lower()):
        return ModelLoadError("missing_files", "missing_files", name=name, detail=chain[0])
    if "device string: disk" in text or ("torch.device" in text and "disk" in text):
        return ModelLoadError("out_of_memory", "max_memory_too_small", name=name)
    return ModelLoadError("load_failed", "load_failed", name=name, detail=f"{type(exc).__name__}: {exc}")
