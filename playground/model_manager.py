"""Lazy model loading with a shared LRU cache under a model-count and memory budget.

One `ModelManager` is created by the app and handed to every tab. It resolves device and dtype,
loads through `transformers.pipeline` (or a project adapter where no pipeline exists), keeps the most
recently used models, and really frees memory on eviction. torch and transformers are imported on
first load so the app starts fast.
"""

from __future__ import annotations

import copy
import ctypes
import gc
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from playground.catalog import ADAPTER_TASKS, Catalog, ModelEntry
from playground.texts import DEFAULT_LANGUAGE, LANGUAGES, Texts

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]
# transformers builds a model under process-wide patches (default dtype, torch.linspace, weight-init
# and tying hooks) and restores them afterwards: two loads overlapping in different threads undo each
# other's patches and leave buffers on the meta device. One model is constructed at a time.
_CONSTRUCT_LOCK = threading.Lock()
# A Hub id typed in the browser: "name" or "owner/name", nothing that could be a path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")


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
TEXTS = Texts("model_manager", STRINGS)


class ModelLoadError(Exception):
    """A model that could not be loaded; `reason` is a stable code, the message says how to fix it.

    The message is TEXTS[key] in every UI language (a parameter may itself be per language: a
    {lang: text} dict); `in_language` picks the caller's.
    """

    def __init__(self, reason: str, key: str, **params: Any):
        self.messages = {
            lang: TEXTS.get(key, lang, **{name: value[lang] if isinstance(value, dict) else value for name, value in params.items()})
            for lang in LANGUAGES
        }
        super().__init__(self.messages[DEFAULT_LANGUAGE])
        self.reason = reason

    def in_language(self, lang: str) -> str:
        return self.messages.get(lang) or str(self)


class UnknownModelError(ModelLoadError):
    def __init__(self, key: str, **params: Any):
        super().__init__("unknown_model", key, **params)


@dataclass
class LoadedModel:
    """A loaded pipeline or adapter plus the facts the Models view and the code snippets show."""

    key: str
    tab: str
    entry: ModelEntry
    source: str
    model: Any
    device: str
    dtype: str
    parameters: int
    resident_bytes: int
    load_seconds: float
    device_map: dict[str, Any] | None
    slots: threading.Semaphore = field(repr=False)
    # The keyword arguments pipeline() (or the adapter) was given, dtype as a string: what "show
    # code" reproduces (playground.snippets.snippet_load_kwargs).
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    last_used: float = field(default_factory=time.time)
    # Called once when the manager drops the model (eviction or unload), e.g. so a generation
    # engine serving it fails its requests with a message instead of holding the memory.
    on_unload: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def unloaded(self) -> None:
        """Run (and forget) the on_unload callbacks."""
        callbacks, self.on_unload = self.on_unload, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one failing callback must not keep the model in memory
                log.exception("an on_unload callback of %s failed", self.entry.id)

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "tab": self.tab,
            "id": self.entry.id,
            "label": self.entry.label,
            "task": self.entry.task,
            "device": self.device,
            "dtype": self.dtype,
            "parameters": self.parameters,
            "size_mb": round(self.resident_bytes / 2**20, 1),
            "load_seconds": round(self.load_seconds, 2),
            "device_map": self.device_map,
            "load_kwargs": self.load_kwargs,
        }


def available_device() -> str:
    """The best accelerator present: cuda, then mps, else cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(requested: str, device: str) -> str:
    """`auto` means half precision on accelerators (bf16 where CUDA supports it), float32 on CPU."""
    if requested != "auto":
        return requested
    if device == "cuda":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "float32"


def release_memory() -> None:
    """Return freed tensors to the OS: Python GC, the CUDA cache, and glibc's malloc arenas."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _weight_files(directory: Path, allow_pickle: bool) -> list[Path]:
    files = list(directory.glob("*.safetensors"))
    if not files and allow_pickle:
        files = list(directory.glob("*.bin"))
    return files


def cached_snapshot(entry_source: str, revision: str | None = None) -> Path | None:
    """The local folder holding a model: the path itself, or its Hub cache snapshot if cached."""
    path = Path(entry_source)
    if path.is_absolute():
        return path if path.is_dir() else None
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(entry_source, revision=revision, local_files_only=True))
    except Exception:  # any failure here just means "not cached"
        return None


def estimate_weight_bytes(entry: ModelEntry, source: str, dtype: str) -> int | None:
    """Bytes the weights will take once loaded, from the files on disk (None if unknown)."""
    folder = cached_snapshot(source, entry.revision)
    if folder is None:
        return None
    files = _weight_files(folder, entry.allow_pickle_weights)
    if not files:
        return None
    on_disk = sum(f.stat().st_size for f in files)
    # Half-precision loads of float32 checkpoints take half the space, and vice versa.
    if dtype in ("float16", "bfloat16"):
        return on_disk // 2 if _stored_as_float32(folder) else on_disk
    return on_disk * 2 if not _stored_as_float32(folder) else on_disk


def _stored_as_float32(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return True
    stored = config.get("dtype") or config.get("torch_dtype") or "float32"
    return stored == "float32"


def _count(model: Any) -> tuple[int, int]:
    """(parameter count, bytes resident on a real device) for a torch module or an adapter."""
    module = getattr(model, "model", model)
    if not hasattr(module, "parameters"):
        return 0, 0
    params = sum(p.numel() for p in module.parameters())
    resident = sum(
        t.numel() * t.element_size()
        for t in (*module.parameters(), *module.buffers())
        if t.device.type != "meta"  # offloaded layers live on disk, not in memory
    )
    return params, resident


def explain_load_error(exc: BaseException, entry: ModelEntry, source: str) -> ModelLoadError:
    """Turn whatever loading raised into a reason code and a message that says what to do."""
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
    if entry.is_local and not Path(source).is_dir():
        return ModelLoadError("not_found", "no_folder", name=name, id=entry.id)
    if "safetensors" in text.lower() and ("no file" in text.lower() or "does not appear to have" in text.lower()):
        folder = Path(source) if entry.is_local else cached_snapshot(source, entry.revision)
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


class ModelManager:
    """The app's one mutable cache of loaded models (thread safe)."""

    def __init__(self, catalog: Catalog, device: str | None = None):
        self.catalog = catalog
        self._requested_device = device or catalog.defaults.device
        self._device: str | None = None
        self._cache: OrderedDict[str, LoadedModel] = OrderedDict()
        self._guard = threading.RLock()
        self._load_locks: dict[str, threading.Lock] = {}
        self.load_count = 0

    # ---- choosing a model -------------------------------------------------------------------
    @property
    def device(self) -> str:
        if self._device is None:
            self._device = available_device() if self._requested_device == "auto" else self._requested_device
        return self._device

    def entry_for(self, tab: str, model: str | None, task: str | None = None) -> ModelEntry:
        """The catalog entry for a model reference (id or label); default when empty."""
        if tab not in self.catalog.tabs:
            raise UnknownModelError("no_tab", tab=tab)
        if not model or not str(model).strip():
            return self.catalog.default_model(tab, task)
        model = str(model).strip()
        entry = self.catalog.find(tab, model, task)
        if entry is not None:
            return entry
        other = self.catalog.find(tab, model, None) if task else None
        if other is not None:
            raise UnknownModelError("wrong_task", name=other.label, model_task=other.task, task=task)
        if not self.catalog.defaults.allow_custom_models:
            choices = ", ".join(m.label for m in self.catalog.models_for(tab, task))
            raise UnknownModelError("not_in_catalog", model=model, choices=choices)
        if not _HUB_ID.match(model) or ".." in model:
            raise UnknownModelError("not_hub_id", model=model)
        task = task or self.catalog.tabs[tab].task or self.catalog.default_model(tab).task
        # Browser-supplied ids never get remote code or pickle weights, whatever the catalog says.
        return ModelEntry(id=model, label=model, task=task)

    def cache_key(self, entry: ModelEntry) -> str:
        """Everything that changes the loaded object."""
        device = "device_map" if entry.device_map else self.device
        parts = {
            "source": self.catalog.resolve_path(entry),
            "revision": entry.revision,
            "task": entry.task,
            "dtype": resolve_dtype(entry.dtype, self.device),
            "device": device,
            "device_map": entry.device_map,
            "max_memory": entry.max_memory,
            "trust_remote_code": entry.trust_remote_code,
            "pipeline_kwargs": entry.pipeline_kwargs,
        }
        return json.dumps(parts, sort_keys=True, default=str)

    # ---- loading ----------------------------------------------------------------------------
    def get(self, tab: str, model: str | None = None, task: str | None = None, progress: ProgressFn | None = None) -> LoadedModel:
        """The loaded model for a tab's reference, loading it (once, even under concurrency) if needed."""
        entry = self.entry_for(tab, model, task)
        key = self.cache_key(entry)
        with self._guard:
            loaded = self._cache.get(key)
            if loaded is not None:
                self._cache.move_to_end(key)
                loaded.last_used = time.time()
                return loaded
            lock = self._load_locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                loaded = self._cache.get(key)
                if loaded is not None:
                    self._cache.move_to_end(key)
                    return loaded
            loaded = self._load(tab, entry, key, progress)
            with self._guard:
                self._cache[key] = loaded
                self._evict_beyond_limits(keep=key)
            return loaded

    def _load(self, tab: str, entry: ModelEntry, key: str, progress: ProgressFn | None) -> LoadedModel:
        source = self.catalog.resolve_path(entry)
        dtype = resolve_dtype(entry.dtype, self.device)
        self._make_room_for(entry, source, dtype)
        if progress:
            progress(0.0, f"Loading {entry.label}…")
        started = time.perf_counter()
        load_kwargs = {**self.load_kwargs(entry, dtype), **entry.pipeline_kwargs}
        try:
            with _CONSTRUCT_LOCK:
                obj = self._construct(entry, source, load_kwargs)
        except Exception as exc:  # classified and re-raised: nothing is cached
            release_memory()
            error = explain_load_error(exc, entry, source)
            log.warning("loading %s failed (%s): %s", entry.id, error.reason, exc)
            raise error from exc
        elapsed = time.perf_counter() - started
        self.load_count += 1
        params, resident = _count(obj)
        inner = getattr(obj, "model", obj)
        device_map = getattr(inner, "hf_device_map", None)
        device = self.device if not entry.device_map else _describe_device_map(device_map, self.device)
        if progress:
            progress(1.0, f"Loaded {entry.label} in {elapsed:.1f} s")
        log.info("loaded %s on %s (%s) in %.2f s", entry.id, device, dtype, elapsed)
        return LoadedModel(
            key=key,
            tab=tab,
            entry=entry,
            source=source,
            model=obj,
            device=device,
            dtype=dtype,
            parameters=params,
            resident_bytes=resident,
            load_seconds=elapsed,
            device_map=dict(device_map) if device_map else None,
            slots=threading.Semaphore(entry.concurrency),
            load_kwargs=load_kwargs,
        )

    def _construct(self, entry: ModelEntry, source: str, load_kwargs: dict[str, Any]) -> Any:
        import torch

        if entry.task in ADAPTER_TASKS:
            from playground.adapters import load_adapter

            return load_adapter(entry.task, source, load_kwargs)
        from transformers import pipeline

        # A deep copy: accelerate rewrites max_memory in place ("290KB" -> 290000), and load_kwargs
        # must keep what the catalog asked for (snippets show it).
        kwargs = {**load_kwargs, "model_kwargs": copy.deepcopy(load_kwargs["model_kwargs"])}
        return pipeline(task=entry.task, model=source, **{**kwargs, "dtype": getattr(torch, kwargs["dtype"])})

    def load_kwargs(self, entry: ModelEntry, dtype: str) -> dict[str, Any]:
        """Keyword arguments shared by pipeline() and adapters (also shown in code snippets)."""
        model_kwargs: dict[str, Any] = {"use_safetensors": not entry.allow_pickle_weights}
        kwargs: dict[str, Any] = {
            "revision": entry.revision,
            "trust_remote_code": entry.trust_remote_code,
            "model_kwargs": model_kwargs,
        }
        if entry.device_map:
            kwargs["device_map"] = entry.device_map
            if entry.max_memory:
                model_kwargs["max_memory"] = {
                    (int(k) if str(k).isdigit() else k): v for k, v in entry.max_memory.items()
                }
            if entry.offload_folder:
                model_kwargs["offload_folder"] = entry.offload_folder
        else:
            kwargs["device"] = self.device
        kwargs["dtype"] = dtype
        return kwargs

    # ---- memory -----------------------------------------------------------------------------
    def _budget_bytes(self) -> int | None:
        gb = self.catalog.defaults.memory_budget_gb
        return int(gb * 2**30) if gb else None

    def _make_room_for(self, entry: ModelEntry, source: str, dtype: str) -> None:
        """Evict before loading so the new model never stacks on top of a full budget."""
        budget = self._budget_bytes()
        needed = estimate_weight_bytes(entry, source, dtype) if budget else None
        if budget and needed and needed > budget and not entry.device_map:
            raise ModelLoadError("over_budget", "over_budget", name=entry.label, needed=needed / 2**30, budget=budget / 2**30)
        with self._guard:
            victims = []
            while self._cache and len(self._cache) >= self.catalog.defaults.max_loaded_models:
                victims.append(self._cache.popitem(last=False)[1])
            if budget and needed:
                while self._cache and self._resident_total() + needed > budget:
                    victims.append(self._cache.popitem(last=False)[1])
        self._free(victims)

    def _resident_total(self) -> int:
        return sum(m.resident_bytes for m in self._cache.values())

    def _evict_beyond_limits(self, keep: str) -> None:
        budget = self._budget_bytes()
        victims = []
        while len(self._cache) > self.catalog.defaults.max_loaded_models or (
            budget and self._resident_total() > budget and len(self._cache) > 1
        ):
            oldest = next(iter(self._cache))
            if oldest == keep:
                break
            victims.append(self._cache.pop(oldest))
        self._free(victims)

    def _free(self, victims: list[LoadedModel]) -> None:
        if not victims:
            return
        for victim in victims:
            log.info("unloading %s", victim.entry.id)
            victim.unloaded()
        victims.clear()
        release_memory()

    # ---- the Models view --------------------------------------------------------------------
    def loaded(self) -> list[dict[str, Any]]:
        with self._guard:
            return [m.summary() for m in reversed(self._cache.values())]

    def unload(self, ref: str) -> list[str]:
        """Unload models matching a cache key, id or label ("all" unloads everything); returns labels."""
        ref = (ref or "").strip()
        with self._guard:
            keys = [
                k
                for k, m in self._cache.items()
                if ref.lower() == "all" or ref in (k, m.entry.id) or ref.lower() == m.entry.label.lower()
            ]
            victims = [self._cache.pop(k) for k in keys]
        labels = [v.entry.label for v in victims]
        self._free(victims)
        return labels

    def is_cached(self, entry: ModelEntry) -> bool:
        return cached_snapshot(self.catalog.resolve_path(entry), entry.revision) is not None


def _describe_device_map(device_map: dict[str, Any] | None, fallback: str) -> str:
    if not device_map:
        return fallback
    places = sorted({str(v) for v in device_map.values()})
    return "+".join(places)
