"""Why a model did not load, in words that say how to fix it (English and Korean).

`explain_load_error` sorts whatever loading raised (Hub errors, missing or corrupt files, remote code,
memory) into a `ModelLoadError`: a stable `reason` code and the message in every UI language.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playground.config.catalog import ModelEntry
from playground.core.texts import LANGUAGES, LocalizedError, Texts

STRINGS = {
    "en": {
        "gated": (
            "{name} is a gated model: accept its licence on https://huggingface.co/{id} and provide a token "
            "(set HF_TOKEN, run `hf auth login`, or add an HF_TOKEN secret to the Space)."
        ),
        "out_of_memory": (
            "Not enough memory to load {name}. Try a smaller dtype (float16/bfloat16), device_map: auto with "
            "max_memory so layers offload to CPU or disk, unloading other models in the Models tab, or a smaller model."
        ),
        "offline_not_cached": "HF_HUB_OFFLINE=1 is set and the model is not in the local cache",
        "hub_unreachable": "the Hugging Face Hub cannot be reached and the model is not in the local cache",
        "not_cached": (
            "{name}: {how}. On a machine with network access run `python app.py prefetch` (or `hf download {id}`) "
            "and copy the cache (~/.cache/huggingface) here."
        ),
        "hub_down": (
            "{name}: the Hugging Face Hub ({endpoint}) {why}, and the model is not in this machine's cache. Check the "
            "network (behind a proxy set HTTPS_PROXY; for a mirror set HF_ENDPOINT), or on a machine with network "
            "access run `python app.py prefetch` (or `hf download {id}`) and copy ~/.cache/huggingface here "
            "(HF_HUB_OFFLINE=1 then uses the cache only). The app asks the Hub again in {retry:.0f} s."
        ),
        "not_on_hub": "{name}: no such model or revision on the Hugging Face Hub ({id}).",
        "no_folder": "{name}: the model folder {id} does not exist.",
        "no_safetensors": (
            "{name} has no safetensors weights, only pickle (.bin) files, which can run code when loaded. "
            "Set allow_pickle_weights: true on its catalog entry if you trust it."
        ),
        "corrupt": "{name}: the weight files are corrupt or truncated; delete and download them again.",
        "no_weights": "{name}: the model folder has no weight files (model.safetensors); download the model again.",
        "remote_code": (
            "{name} ships its own Python code, which this app runs only when the model's catalog entry sets "
            "trust_remote_code: true (do that only for code you have read and trust)."
        ),
        "missing_files": "{name}: files are missing from the model folder ({detail}).",
        "max_memory_too_small": (
            "{name}: max_memory is too small for any layer to stay in memory. Raise max_memory for the cpu/gpu "
            "in its catalog entry."
        ),
        "load_failed": "{name} could not be loaded: {detail}",
        "no_tab": "This app has no {tab} tab.",
        "wrong_task": "{name} is a {model_task} model; this action needs a {task} model.",
        "not_in_catalog": "Model {model!r} is not in this app's catalog. Choose one of: {choices}.",
        "not_hub_id": "{model!r} is not a Hugging Face Hub model id (expected owner/name).",
        "over_budget": (
            "{name} needs about {needed:.2f} GB, more than this app's memory budget ({budget:.2f} GB). Use a "
            "smaller model or dtype, set device_map: auto with max_memory to offload layers, or raise "
            "memory_budget_gb in the catalog."
        ),
    },
    "ko": {
        "gated": (
            "{name}은(는) 접근 제한 모델입니다. https://huggingface.co/{id} 에서 라이선스에 동의하고 토큰을 주세요 "
            "(HF_TOKEN 설정, `hf auth login` 실행, 또는 Space에 HF_TOKEN 비밀 값 추가)."
        ),
        "out_of_memory": (
            "{name}을(를) 불러올 메모리가 부족합니다. 더 작은 dtype(float16/bfloat16), 층을 CPU나 디스크로 내보내는 "
            "device_map: auto와 max_memory, 모델 탭에서 다른 모델 내리기, 또는 더 작은 모델을 써 보세요."
        ),
        "offline_not_cached": "HF_HUB_OFFLINE=1이 설정되어 있고 모델이 로컬 캐시에 없습니다",
        "hub_unreachable": "Hugging Face Hub에 연결할 수 없고 모델이 로컬 캐시에 없습니다",
        "not_cached": (
            "{name}: {how}. 네트워크가 되는 컴퓨터에서 `python app.py prefetch`(또는 `hf download {id}`)를 실행하고 "
            "캐시(~/.cache/huggingface)를 이곳으로 복사하세요."
        ),
        "hub_down": (
            "{name}: Hugging Face Hub({endpoint})가 {why}. 모델도 이 컴퓨터의 캐시에 없습니다. 네트워크를 확인하거나"
            "(프록시 뒤라면 HTTPS_PROXY, 미러는 HF_ENDPOINT 설정), 네트워크가 되는 컴퓨터에서 `python app.py prefetch`"
            "(또는 `hf download {id}`)를 실행하고 ~/.cache/huggingface를 이곳으로 복사하세요(그 뒤 HF_HUB_OFFLINE=1이면 "
            "캐시만 씁니다). 앱은 {retry:.0f}초 뒤에 Hub에 다시 물어봅니다."
        ),
        "not_on_hub": "{name}: Hugging Face Hub에 그런 모델이나 리비전이 없습니다 ({id}).",
        "no_folder": "{name}: 모델 폴더 {id}이(가) 없습니다.",
        "no_safetensors": (
            "{name}에는 safetensors 가중치가 없고, 불러올 때 코드를 실행할 수 있는 pickle(.bin) 파일만 있습니다. "
            "믿을 수 있다면 카탈로그 항목에 allow_pickle_weights: true를 설정하세요."
        ),
        "corrupt": "{name}: 가중치 파일이 손상되었거나 잘렸습니다. 지우고 다시 내려받으세요.",
        "no_weights": "{name}: 모델 폴더에 가중치 파일(model.safetensors)이 없습니다. 모델을 다시 내려받으세요.",
        "remote_code": (
            "{name}은(는) 자체 Python 코드를 함께 배포합니다. 이 앱은 카탈로그 항목에 trust_remote_code: true가 "
            "있을 때만 그 코드를 실행합니다(읽어 보고 믿을 수 있는 코드에만 설정하세요)."
        ),
        "missing_files": "{name}: 모델 폴더에 파일이 빠져 있습니다 ({detail}).",
        "max_memory_too_small": (
            "{name}: max_memory가 너무 작아 어떤 층도 메모리에 올릴 수 없습니다. 카탈로그 항목에서 cpu/gpu의 "
            "max_memory를 늘리세요."
        ),
        "load_failed": "{name}을(를) 불러올 수 없습니다: {detail}",
        "no_tab": "이 앱에는 {tab} 탭이 없습니다.",
        "wrong_task": "{name}은(는) {model_task} 모델입니다. 이 동작에는 {task} 모델이 필요합니다.",
        "not_in_catalog": "모델 {model!r}은(는) 이 앱의 카탈로그에 없습니다. 다음 중에서 고르세요: {choices}.",
        "not_hub_id": "{model!r}은(는) Hugging Face Hub 모델 id가 아닙니다 (owner/name 형식이어야 합니다).",
        "over_budget": (
            "{name}에는 약 {needed:.2f} GB가 필요해 이 앱의 메모리 예산({budget:.2f} GB)을 넘습니다. 더 작은 모델이나 "
            "dtype을 쓰거나, device_map: auto와 max_memory로 층을 내보내거나, 카탈로그의 memory_budget_gb를 늘리세요."
        ),
    },
}
TEXTS = Texts("load_errors", STRINGS)


class ModelLoadError(LocalizedError):
    """A model that could not be loaded; `reason` is a stable code, the message says how to fix it.

    The message is TEXTS[key] in every UI language (a parameter may itself be per language: a
    {lang: text} dict); `in_language` picks the caller's.
    """

    def __init__(self, reason: str, key: str, **params: Any):
        super().__init__({
            lang: TEXTS.get(key, lang, **{name: value[lang] if isinstance(value, dict) else value for name, value in params.items()})
            for lang in LANGUAGES
        })
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
    corrupt_markers = ("deserializ", "header too large", "invalid load key", "unexpected eof", "incomplete metadata", "safetensorerror")
    if any(marker in text.lower() for marker in corrupt_markers):
        return ModelLoadError("corrupt", "corrupt", name=name)
    if has(OSError) and ("does not appear to have" in text or "no file named" in text.lower()):
        return ModelLoadError("missing_files", "missing_files", name=name, detail=chain[0])
    if "device string: disk" in text or ("torch.device" in text and "disk" in text):
        return ModelLoadError("out_of_memory", "max_memory_too_small", name=name)
    return ModelLoadError("load_failed", "load_failed", name=name, detail=f"{type(exc).__name__}: {exc}")
