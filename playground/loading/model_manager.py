"""Lazy model loading with a shared LRU cache under a model-count and memory budget.

One `ModelManager` is created by the app and handed to every tab. It loads through
`transformers.pipeline` (or the project adapter of `playground.loading.adapters.ADAPTERS` where no pipeline
exists), keeps the most recently used models, and really frees memory on eviction. Device and dtype
come from `playground.loading.devices`, failures are explained by `playground.loading.load_errors`. torch and
transformers are imported on first load so the app starts fast.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playground.config.catalog import Catalog, ModelEntry
from playground.core.snippets import Raw
from playground.core.texts import DEFAULT_LANGUAGE, LANGUAGES, SHARED_LOCALES, Texts, size_text
from playground.loading.adapters import ADAPTERS
from playground.loading.compute_turns import ComputeTurns, take_turns_on_cpu
from playground.loading.devices import available_device, release_memory
from playground.loading.hub import (
    HUB,
    HUB_STOPPED_ANSWERING,
    HubUnreachable,
    ProgressFn,
    cached_snapshot,
    estimate_weight_bytes,
    network_failure,
    tied_output_bytes,
)
from playground.loading.hub import is_cached as snapshot_is_cached
from playground.loading.idle_limits import unloads_at
from playground.loading.load_errors import ModelLoadError, UnknownModelError, explain_load_error
from playground.loading.precision import (
    DtypeChoice,
    QuantizationPlan,
    choose_dtype,
    packs_linears,
    quantization_plan,
)

log = logging.getLogger(__name__)

TEXTS = Texts.load("loading", SHARED_LOCALES)
PRECISION_TEXTS = Texts.load("precision", SHARED_LOCALES)

# transformers builds a model under process-wide patches (default dtype, torch.linspace, weight-init
# and tying hooks) and restores them afterwards: two loads overlapping in different threads undo each
# other's patches and leave buffers on the meta device. One model is constructed at a time.
_CONSTRUCT_LOCK = threading.Lock()
# A Hub id typed in the browser: "name" or "owner/name", nothing that could be a path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")


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
    # The keyword arguments pipeline() (or the adapter) was given, dtype as a string: what "show
    # code" reproduces (playground.core.snippets.snippet_load_kwargs).
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    # Why it runs in `dtype` on this device (playground.loading.precision.choose_dtype).
    dtype_choice: DtypeChoice | None = None
    # `quantization:` as loaded, with the imports its config needs in a snippet.
    quantization: QuantizationPlan | None = None
    # How many nn.Linear layers were packed for the CPU (playground.loading.packed_linears); 0: none.
    packed_linears: int = 0
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

    def dtype_reason(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """Why the model runs in its dtype here, in `lang` ("" when unknown)."""
        return self.dtype_choice.explained(PRECISION_TEXTS, lang) if self.dtype_choice else ""

    def packed_linears_note(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """What packing the linear layers did, in `lang` ("" when they were not packed)."""
        return PRECISION_TEXTS.get("packed_linears", lang, count=self.packed_linears) if self.packed_linears else ""

    def summary(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        return {
            "key": self.key,
            "tab": self.tab,
            "id": self.entry.id,
            "label": self.entry.label,
            "task": self.entry.task,
            "device": self.device,
            "dtype": self.dtype,
            "dtype_reason": self.dtype_reason(lang),
            "quantization": self.quantization.name if self.quantization else None,
            "packed_linears": self.packed_linears,
            "packed_linears_note": self.packed_linears_note(lang),
            "parameters": self.parameters,
            "size_mb": round(self.resident_bytes / 2**20, 1),
            "load_seconds": round(self.load_seconds, 2),
            "device_map": self.device_map,
            "load_kwargs": _with_strings_for_raw(self.load_kwargs),
        }


@dataclass(eq=False)
class MemoryHold:
    """Part of the memory budget held by work beside the cached models (a training) until released."""

    # What holds it, in every UI language (named in the message of a load it refuses).
    label: dict[str, str]
    size: int


def hub_down_error(exc: HubUnreachable, entry: ModelEntry) -> ModelLoadError:
    """The Hub did not answer and the model is not cached: what to check, and when the app retries."""
    return ModelLoadError(
        "hub_unreachable",
        "hub_down",
        name=entry.label or entry.id,
        endpoint=exc.endpoint,
        why=exc.why,
        id=entry.id,
        retry=exc.retry_in,
    )


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


class ModelManager:
    """The app's one mutable cache of loaded models (thread safe)."""

    def __init__(self, catalog: Catalog, device: str | None = None):
        self.catalog = catalog
        self._requested_device = device or catalog.defaults.device
        self._device: str | None = None
        self._cache: OrderedDict[str, LoadedModel] = OrderedDict()
        self._guard = threading.RLock()
        self._load_locks: dict[str, threading.Lock] = {}
        # Memory held beside the cache (trainings): it counts against the budget like loaded weights.
        self._holds: list[MemoryHold] = []
        self.load_count = 0
        # Cache key -> why its last load failed (cleared when it loads): readiness checks read it.
        self.load_failures: dict[str, str] = {}
        # Forward passes on the CPU, one at a time (playground.loading.compute_turns).
        self.compute_turns = ComputeTurns()

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
            "dtype": choose_dtype(entry, self.device).dtype,
            "quantization": entry.quantization,
            "device": device,
            "device_map": entry.device_map,
            "max_memory": entry.max_memory,
            "trust_remote_code": entry.trust_remote_code,
            "pipeline_kwargs": entry.pipeline_kwargs,
            "packed_linears": packs_linears(entry, self.device),
        }
        return json.dumps(_with_string_keys(parts), sort_keys=True, default=str)

    # ---- loading ----------------------------------------------------------------------------
    def get(
        self, tab: str, model: str | None = None, task: str | None = None, progress: ProgressFn | None = None
    ) -> LoadedModel:
        """The loaded model for a tab's reference, loading it (once, even under concurrency) if needed."""
        return self.get_entry(tab, self.entry_for(tab, model, task), progress)

    def get_entry(self, tab: str, entry: ModelEntry, progress: ProgressFn | None = None) -> LoadedModel:
        """The loaded model for `entry` (a catalog entry, or one derived from it, such as the same
        checkpoint with other `pipeline_kwargs`), under the same cache and budget as `get`."""
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
            try:
                loaded = self._load(tab, entry, key, progress)
            except Exception as exc:
                self.load_failures[key] = getattr(exc, "reason", type(exc).__name__)
                raise
            with self._guard:
                self.load_failures.pop(key, None)
                self._cache[key] = loaded
                self._evict_beyond_limits(keep=key)
            return loaded

    def _load(self, tab: str, entry: ModelEntry, key: str, progress: ProgressFn | None) -> LoadedModel:
        if "transformers.pipelines" not in sys.modules:
            # Seconds on the first load of the process (the app imports them lazily): say so, not "0 %".
            if progress:
                progress(0.0, TEXTS.render("importing"))
            # One thread imports: transformers' lazy module, imported by two threads at once, can tell
            # the second that `pipeline` does not exist while the first is still importing it.
            with _CONSTRUCT_LOCK:
                import torch  # noqa: F401
                from transformers import pipeline  # noqa: F401
        source = self.catalog.resolve_path(entry)
        choice = choose_dtype(entry, self.device)
        dtype = choice.dtype
        # Before any download: a quantization this machine cannot do is refused at once.
        quantization = quantization_plan(entry, self.device)
        try:
            # The cache when the Hub does not answer; the Hub answers within seconds or not at all.
            files = HUB.loadable_source(source, entry.revision, entry.allow_pickle_weights, entry.label, progress)
        except HubUnreachable as exc:
            raise hub_down_error(exc, entry) from None
        self._make_room_for(entry, source, dtype)
        if progress:
            progress(0.0, TEXTS.render("loading", label=entry.label))
        started = time.perf_counter()
        load_kwargs = {**self.load_kwargs(entry, dtype, quantization), **entry.pipeline_kwargs}
        try:
            with _CONSTRUCT_LOCK:
                obj = self._construct(entry, files, load_kwargs, quantization)
        except Exception as exc:  # classified and re-raised: nothing is cached
            release_memory()
            if network_failure(exc) and not entry.is_local:
                HUB.record_failure(HUB_STOPPED_ANSWERING)
                raise hub_down_error(
                    HubUnreachable(HUB.endpoint, HUB_STOPPED_ANSWERING, HUB.retry_seconds), entry
                ) from exc
            error = explain_load_error(exc, entry, cached_snapshot(source, entry.revision))
            log.warning("loading %s failed (%s): %s", entry.id, error.reason, exc)
            raise error from exc
        # Counted before packing: the packed weights are buffers, yet still the model's parameters.
        params, resident = _count(obj)
        packed = self._pack_linears(entry, obj)
        if packed:
            resident = _count(obj)[1]
        elapsed = time.perf_counter() - started
        self.load_count += 1
        inner = getattr(obj, "model", obj)
        device_map = getattr(inner, "hf_device_map", None)
        device = self.device if "device_map" not in load_kwargs else _describe_device_map(device_map, self.device)
        take_turns_on_cpu(obj, device, self.compute_turns)
        if progress:
            progress(1.0, TEXTS.render("loaded", label=entry.label, seconds=elapsed))
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
            load_kwargs=load_kwargs,
            dtype_choice=choice,
            quantization=quantization,
            packed_linears=packed,
        )

    def _pack_linears(self, entry: ModelEntry, obj: Any) -> int:
        """Pack the loaded model's linear layers for the CPU where `packs_linears` says so and this
        torch build can; returns how many were packed."""
        if not packs_linears(entry, self.device):
            return 0
        from playground.loading.packed_linears import pack_linears, packing_works

        if not packing_works():
            log.info("%s: this torch build cannot pack linear layers on this CPU; left as nn.Linear", entry.id)
            return 0
        model = getattr(obj, "model", obj)
        count = pack_linears(model)
        _own_mapped_tensors(model)
        # The dense weights just replaced, and the checkpoint's pages they were read from, go back.
        release_memory()
        return count

    def _construct(
        self, entry: ModelEntry, source: str, load_kwargs: dict[str, Any], quantization: QuantizationPlan | None
    ) -> Any:
        # A copy: accelerate rewrites max_memory in place (sizes to bytes), and load_kwargs is what
        # the snippets show.
        kwargs = copy.deepcopy(load_kwargs)
        if quantization is not None:
            kwargs["model_kwargs"]["quantization_config"] = quantization.build()
        adapter = ADAPTERS.get(entry.task)
        if adapter is not None:
            obj = adapter(source, kwargs)
        else:
            import torch
            from transformers import pipeline

            obj = pipeline(task=entry.task, model=source, **{**kwargs, "dtype": getattr(torch, kwargs["dtype"])})
        if quantization is not None:
            _own_mapped_tensors(getattr(obj, "model", obj))
        # Converting weights (quantizing, or another dtype than stored) goes through temporaries, up to
        # about twice the float32 model at the peak; glibc keeps such freed memory unless asked to
        # give it back.
        release_memory()
        return obj

    def load_kwargs(
        self, entry: ModelEntry, dtype: str, quantization: QuantizationPlan | None = None
    ) -> dict[str, Any]:
        """Keyword arguments shared by pipeline() and adapters (also shown in code snippets)."""
        model_kwargs: dict[str, Any] = {"use_safetensors": not entry.allow_pickle_weights}
        kwargs: dict[str, Any] = {
            "revision": entry.revision,
            "trust_remote_code": entry.trust_remote_code,
            "model_kwargs": model_kwargs,
        }
        if quantization is not None:
            model_kwargs["quantization_config"] = Raw(quantization.expression)
        if quantization is not None and quantization.name.startswith("bnb-") and not entry.device_map:
            # bitsandbytes places the weights as it quantizes them; such a model cannot be moved afterwards.
            kwargs["device_map"] = "auto"
        elif entry.device_map:
            kwargs["device_map"] = entry.device_map
            max_memory = self._max_memory_here(entry) if entry.max_memory else None
            if max_memory:
                model_kwargs["max_memory"] = max_memory
            if entry.offload_folder:
                model_kwargs["offload_folder"] = self.catalog.resolve_folder(entry.offload_folder)
        else:
            kwargs["device"] = self.device
        kwargs["dtype"] = dtype
        return kwargs

    def _max_memory_here(self, entry: ModelEntry) -> dict[int | str, Any]:
        """The entry's max_memory for the devices this machine has: accelerate wants GPU numbers as
        ints and would place layers on a GPU that is missing, so absent GPUs are left out (on Apple
        silicon GPU 0's budget becomes "mps")."""
        gpus = _gpu_count() if self.device == "cuda" else 0
        limits: dict[int | str, Any] = {}
        for device, size in (entry.max_memory or {}).items():
            name = str(device)
            if not name.isdigit():
                limits[name] = size
            elif int(name) < gpus:
                limits[int(name)] = size
            elif self.device == "mps" and int(name) == 0:
                limits.setdefault("mps", size)
            else:
                log.info("%s: max_memory names GPU %s, which this machine does not have; left out", entry.id, name)
        return limits

    # ---- memory -----------------------------------------------------------------------------
    def _budget_bytes(self) -> int | None:
        gb = self.catalog.defaults.memory_budget_gb
        return int(gb * 2**30) if gb else None

    def _make_room_for(self, entry: ModelEntry, source: str, dtype: str) -> None:
        """Evict before loading so the new model never stacks on top of a full budget."""
        budget = self._budget_bytes()
        needed = estimate_weight_bytes(entry, source, dtype) if budget else None
        if needed and packs_linears(entry, self.device):
            needed += tied_output_bytes(entry, source)  # the tied output layer's packed copy
        if budget and needed and needed > budget and not entry.device_map:
            raise ModelLoadError(
                "over_budget", "over_budget", name=entry.label, needed=needed / 2**30, budget=budget / 2**30
            )
        with self._guard:
            held = self._held_total()
            if budget and needed and needed > budget - held and not entry.device_map:
                raise ModelLoadError(
                    "over_budget",
                    "over_budget_held",
                    name=entry.label,
                    needed=size_text(needed),
                    budget=size_text(budget),
                    held=size_text(held),
                    holders={lang: ", ".join(hold.label[lang] for hold in self._holds) for lang in LANGUAGES},
                )
            victims = []
            while self._cache and len(self._cache) >= self.catalog.defaults.max_loaded_models:
                victims.append(self._cache.popitem(last=False)[1])
            if budget and needed:
                while self._cache and self._used_total() + needed > budget:
                    victims.append(self._cache.popitem(last=False)[1])
        self._free(victims)

    def hold_memory(self, label: dict[str, str], size: int) -> MemoryHold | None:
        """Hold `size` bytes of the memory budget for work beside the cached models (a training) until
        `release_hold`: the least recently used models are unloaded to make room, as a load does, and
        loads meanwhile count the hold as used. None, with nothing unloaded, where it cannot fit even
        with every model unloaded (always held without a budget)."""
        budget = self._budget_bytes()
        hold = MemoryHold(label, size)
        with self._guard:
            if budget and size > budget - self._held_total():
                return None
            victims = []
            while budget and self._cache and self._used_total() + size > budget:
                victims.append(self._cache.popitem(last=False)[1])
            self._holds.append(hold)
        self._free(victims)
        return hold

    def release_hold(self, hold: MemoryHold) -> None:
        """Give a hold's memory back to the budget (once; releasing it again does nothing)."""
        with self._guard:
            if hold in self._holds:
                self._holds.remove(hold)

    def budget_left(self) -> tuple[int, int] | None:
        """(bytes of the budget not held beside the cache, the whole budget); None without a budget.
        Cached models are not subtracted: they are unloaded to make room."""
        budget = self._budget_bytes()
        if not budget:
            return None
        with self._guard:
            return budget - self._held_total(), budget

    def held_bytes(self) -> int:
        """Bytes of the budget held beside the cached models (running trainings)."""
        with self._guard:
            return self._held_total()

    def _held_total(self) -> int:
        return sum(hold.size for hold in self._holds)

    def _used_total(self) -> int:
        return self._resident_total() + self._held_total()

    def _resident_total(self) -> int:
        return sum(m.resident_bytes for m in self._cache.values())

    def _evict_beyond_limits(self, keep: str) -> None:
        budget = self._budget_bytes()
        victims = []
        while len(self._cache) > self.catalog.defaults.max_loaded_models or (
            budget and self._used_total() > budget and len(self._cache) > 1
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
    def loaded(self, lang: str = DEFAULT_LANGUAGE) -> list[dict[str, Any]]:
        with self._guard:
            return [
                {**m.summary(lang), "unloads_at": unloads_at(self.catalog, m)} for m in reversed(self._cache.values())
            ]

    def loaded_models(self) -> list[LoadedModel]:
        with self._guard:
            return list(self._cache.values())

    def unload_where(self, condition: Callable[[LoadedModel], bool]) -> list[str]:
        """Unload every model for which `condition` holds (decided under the cache's lock, so a request
        that takes a model at the same moment either keeps it or loads it again); returns labels."""
        with self._guard:
            victims = [self._cache.pop(key) for key, loaded in list(self._cache.items()) if condition(loaded)]
        labels = [victim.entry.label for victim in victims]
        self._free(victims)
        return labels

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
        return snapshot_is_cached(self.catalog.resolve_path(entry), entry.revision)


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count()


def _with_string_keys(value: Any) -> Any:
    """`value` with every mapping key a string: YAML reads `0:` as an int, and json.dumps cannot sort
    a mapping whose keys mix ints and strings."""
    if isinstance(value, dict):
        return {str(key): _with_string_keys(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_with_string_keys(item) for item in value]
    return value


def _with_strings_for_raw(value: Any) -> Any:
    """`value` with every snippet expression (Raw) as its text, so it serialises as JSON."""
    if isinstance(value, Raw):
        return repr(value)
    if isinstance(value, dict):
        return {key: _with_strings_for_raw(item) for key, item in value.items()}
    return value


def _own_mapped_tensors(model: Any) -> None:
    """Copy a quantized or packed model's plain tensors (embeddings, norms) out of the checkpoint's
    memory map.

    Weights loaded as stored stay mapped from the safetensors file, and while any of them does, every
    page of the file that quantizing or packing read stays counted in the process's memory: the
    float32 file's size on top of the converted weights."""
    import torch

    if not hasattr(model, "named_parameters"):
        return
    with torch.no_grad():
        for tensor in (*model.parameters(), *model.buffers()):
            if type(tensor.data) is torch.Tensor and tensor.device.type == "cpu" and not tensor.is_mkldnn:
                tensor.data = tensor.data.clone()


def _describe_device_map(device_map: dict[str, Any] | None, fallback: str) -> str:
    if not device_map:
        return fallback
    places = sorted({str(v) for v in device_map.values()})
    return "+".join(places)
