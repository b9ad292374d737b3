"""The model catalog (models.yaml): schema, validation and lookup.

The catalog is the single place that says which models each tab offers and how they load. It is
validated at start-up so a typo stops the app with a message naming the file, the entry and the
problem, instead of failing later in front of a class.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from playground.config.registry import FINE_TUNE_TAB, TAB_TASKS
from playground.core.texts import DEFAULT_LANGUAGE, LANGUAGES, parse_yaml

_PARAM_SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9}
# What accelerate accepts in max_memory besides GPU numbers, and the sizes it parses.
MEMORY_DEVICES = ("cpu", "mps", "disk")
_MEMORY_SIZE = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*(GiB|MiB|KiB|GB|MB|KB)\s*", re.IGNORECASE)


def parse_parameter_count(value: Any) -> int | None:
    """`params: 494M` / `8B` / `1.5B` / 124000000 -> a parameter count."""
    if value is None or isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMB])\s*", str(value), re.IGNORECASE)
    if not match:
        raise ValueError("params must be a count such as 494M, 8B or 1.5B")
    return round(float(match.group(1)) * _PARAM_SUFFIXES[match.group(2).upper()])


class CatalogError(Exception):
    """A catalog that cannot be used; the message is meant for the person who edits the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


# The tabs whose lists the fine-tune tab's models join while the app runs, by the task they learnt.
FINE_TUNED_MODELS_TABS = {"text-classification": "text_classification", "token-classification": "named_entities"}
# Tasks a model behind an OpenAI-compatible endpoint can serve (playground.engines.remote_engine).
ENDPOINT_TASKS = ("text-generation", "automatic-speech-recognition")
# Entry fields that say how to load weights here: meaningless for a model another server runs.
_LOCAL_LOADING_FIELDS = (
    "revision",
    "device_map",
    "max_memory",
    "offload_folder",
    "trust_remote_code",
    "allow_pickle_weights",
    "pipeline_kwargs",
    "generate_kwargs",
    "quantization",
    "cpu_dtype",
    "cpu_packed_linears",
)
# `quantization:` values (playground.loading.precision.QUANTIZATIONS): torchao's int8 / int4 weight-only
# (CPU or GPU), bitsandbytes' 8-bit and NF4 4-bit (CUDA only).
QUANTIZATION_METHODS = ("int8", "int4", "bnb-int8", "bnb-nf4")


class Endpoint(_Strict):
    """An OpenAI-compatible server (vLLM, TGI, SGLang, `transformers serve`, Inference Endpoints or
    Providers) that runs the entry's model; the entry's `id` is the model name the server serves.

    Only the catalog names URLs (the browser cannot), and a key only ever comes from the environment
    variable `api_key_env` names: never from this file, the UI, logs or snippets.
    """

    url: str = Field(min_length=1)
    api_key_env: str | None = None
    # Seconds to wait for the connection and for each piece of the answer (not the whole answer).
    timeout: float = Field(default=60, gt=0, le=3600)
    # Retries of a request the server refused before answering (connection refused, 429, 5xx);
    # never once text has streamed.
    max_retries: int = Field(default=2, ge=0, le=10)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL such as http://gpu-server:8000/v1")
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials: name an environment variable in api_key_env")
        if parts.query or parts.fragment:
            raise ValueError("url must not have a query or fragment")
        return value.strip().rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("api_key_env must be the name of an environment variable (e.g. VLLM_API_KEY), not a key")
        return value


class ModelEntry(_Strict):
    id: str = Field(min_length=1)
    label: str = ""
    task: str = ""
    default: bool = False
    # One text, or one per UI language ({en: ..., ko: ...}, English required): shown under the picker in
    # the page's language, English where the catalog gives no such form.
    description: str | dict[str, str] = ""
    revision: str | None = None
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    # The dtype on a CPU-only machine, whatever `dtype` says; unset: decided from what the CPU
    # multiplies natively and whether the model is compute-bound (playground.loading.precision).
    cpu_dtype: Literal["float32", "float16", "bfloat16"] | None = None
    # Text generation on a CPU in float32: reorder the linear layers' weights once into oneDNN's blocked
    # layout (playground.loading.packed_linears; about twice the decoding speed). false: plain nn.Linear.
    cpu_packed_linears: bool = True
    # Weight quantization at load time (QUANTIZATION_METHODS); unset: the weights as stored.
    quantization: Literal["int8", "int4", "bnb-int8", "bnb-nf4"] | None = None
    device_map: None | str | dict[str, Any] = None
    # Per device: GPU numbers (YAML reads `0:` as an int), cpu, mps or disk -> "14GiB" or bytes.
    max_memory: dict[str, str | int] | None = None
    offload_folder: str | None = None
    trust_remote_code: bool = False
    # Pickle (.bin) weights can run code when loaded: only when the entry opts in.
    allow_pickle_weights: bool = False
    gated: bool = False
    pipeline_kwargs: dict[str, Any] = Field(default_factory=dict)
    generate_kwargs: dict[str, Any] = Field(default_factory=dict)
    # An image-text-to-text model meant for document pages (OCR-free, e.g. Donut): the visual QA
    # tab offers it for documents instead of pictures.
    document: bool = False
    # An image-text-to-text picture model's own question, asked when the user types none: a caption
    # prompt ("Describe this picture.") makes the entry a captioner.
    prompt: str = Field(default="", max_length=500)
    # How many requests may use this model at once (text generation queues beyond it).
    concurrency: int = Field(default=1, ge=1, le=64)
    # Text generation: how many requests may share one batched forward pass (1: one generate() at a
    # time per `concurrency`, no batching). Unset: 16 on CPU, 32 on a GPU. Speech recognition: how many
    # 30 s windows of concurrent requests share one forward pass (playground.engines.speech_batching; also the
    # tab's concurrency). Unset: 1 on CPU (measured: no gain on 2 cores), 16 on a GPU.
    max_batch_size: int | None = Field(default=None, ge=1, le=256)
    # Text generation: the KV-cache memory a batch may use, in MB. Unset: 1024 on CPU, 4096 on a GPU
    # (capped by what memory_budget_gb leaves beside the weights).
    kv_cache_mb: float | None = Field(default=None, gt=0)
    # Parameter count (`494M`, `8B`): sizes the Space hardware that `app.py space-files` suggests.
    params: int | None = Field(default=None, gt=0)
    # Served by another machine's engine through the OpenAI-compatible API instead of loaded here.
    endpoint: Endpoint | None = None
    # Unload after this many minutes unused (0: never); unset: the catalog's idle_unload_minutes.
    idle_unload_minutes: float | None = Field(default=None, ge=0)

    @field_validator("description")
    @classmethod
    def _description_languages(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(LANGUAGES))
            if unknown:
                raise ValueError(f"description: unknown language {', '.join(unknown)} (use {', '.join(LANGUAGES)})")
            if not value.get(DEFAULT_LANGUAGE):
                raise ValueError(f"description: the {DEFAULT_LANGUAGE} text is required")
        return value

    def described(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The description in `lang` (English where the catalog gives no such form; "" if none)."""
        if isinstance(self.description, str):
            return self.description
        return self.description.get(lang) or self.description[DEFAULT_LANGUAGE]

    @field_validator("params", mode="before")
    @classmethod
    def _params_count(cls, value: Any) -> int | None:
        return parse_parameter_count(value)

    @field_validator("max_memory", mode="before")
    @classmethod
    def _memory_per_device(cls, value: Any) -> Any:
        """Keys as strings ("0", "cpu"), so an entry compares, sorts and serialises the same way."""
        if not isinstance(value, dict):
            return value
        normalized: dict[str, Any] = {}
        for device, size in value.items():
            name = str(device).strip().lower()
            if not (name.isdigit() or name in MEMORY_DEVICES):
                raise ValueError(
                    f"max_memory: {device!r} is not a device (use GPU numbers 0, 1, ... or cpu, mps, disk)"
                )
            valid_int = isinstance(size, int) and not isinstance(size, bool) and size >= 0
            if not (valid_int or (isinstance(size, str) and _MEMORY_SIZE.fullmatch(size))):
                raise ValueError(
                    f"max_memory[{name}]: {size!r} is not a size (use e.g. 14GiB, 500MB or a number of bytes)"
                )
            normalized[name] = size.strip() if isinstance(size, str) else size
        return normalized

    @field_validator("device_map")
    @classmethod
    def _device_map_known(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("auto", "balanced", "balanced_low_0", "sequential", "cpu"):
            raise ValueError("device_map must be omitted, 'auto', 'balanced', 'sequential', 'cpu' or a mapping")
        return value

    @model_validator(mode="after")
    def _fill_label(self) -> ModelEntry:
        if not self.label:
            self.label = self.id.rstrip("/").split("/")[-1]
        if self.max_memory and not self.device_map:
            raise ValueError("max_memory only applies with device_map (set device_map: auto)")
        if self.endpoint is not None:
            loading = [name for name in _LOCAL_LOADING_FIELDS if name in self.model_fields_set]
            if loading or self.dtype != "auto":
                fields = ", ".join(loading + (["dtype"] if self.dtype != "auto" else []))
                raise ValueError(f"{fields}: loading options do not apply to a model served by an endpoint")
        return self

    @property
    def is_local(self) -> bool:
        return self.endpoint is None and self.id.startswith(("./", "../", "/", "~"))

    @property
    def is_remote(self) -> bool:
        return self.endpoint is not None


# A Hugging Face user or organization name (what the Hub's URLs use).
_HUB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


class HuggingFaceSignIn(_Strict):
    """Sign-in with Hugging Face accounts (OAuth, on a Space with `hf_oauth: true`): the accounts that
    may use the app, named one by one or by an organization they belong to."""

    users: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)

    @field_validator("users", "organizations")
    @classmethod
    def _hub_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not isinstance(name, str) or not _HUB_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"not Hugging Face account names: {bad} (use names as in huggingface.co/NAME)")
        return value

    @model_validator(mode="after")
    def _someone_allowed(self) -> HuggingFaceSignIn:
        if not self.users and not self.organizations:
            raise ValueError("list the users or organizations that may sign in (nobody could otherwise)")
        return self


class SignInSettings(_Strict):
    # Unset: no Hugging Face sign-in (a users file, --auth-file, is the other way to sign in).
    huggingface: HuggingFaceSignIn | None = None


class Defaults(_Strict):
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    max_loaded_models: int = Field(default=3, ge=1)
    memory_budget_gb: float | None = Field(default=None, gt=0)
    allow_custom_models: bool = False
    max_upload_mb: float = Field(default=25, gt=0)
    max_audio_minutes: float = Field(default=60, gt=0)
    max_pdf_pages: int = Field(default=20, ge=1)
    queue_size: int = Field(default=64, ge=1)
    # Pipelines over a dataset (an uploaded CSV / JSONL / TXT file): at most this many rows and MB.
    max_dataset_rows: int = Field(default=1000, ge=1)
    max_dataset_mb: float = Field(default=5, gt=0)
    # Dataset runs may also name a Hub dataset (streamed, max_dataset_rows rows at most). On by
    # default: an offline app (HF_HUB_OFFLINE=1) hides the field and answers such calls at once.
    allow_hub_datasets: bool = True
    # Tesseract languages for document OCR (3-letter codes, e.g. eng, kor, chi_sim); a Space installs
    # their tesseract-ocr-* packages (packages.txt).
    ocr_languages: list[str] = Field(default_factory=lambda: ["eng"], min_length=1)
    # Requests one user (signed-in name, else browser session) may have running or waiting at once;
    # unset: no limit. Users are served in turn whatever it is.
    max_requests_per_user: int | None = Field(default=None, ge=1)
    # Serve Prometheus metrics at /metrics (as `--metrics` does).
    metrics: bool = False
    # Unload a model nobody used for this many minutes (a model's own entry may say otherwise); unset: never.
    idle_unload_minutes: float | None = Field(default=None, gt=0)
    # Who may use the app when signed in with Hugging Face (see HuggingFaceSignIn).
    sign_in: SignInSettings = Field(default_factory=SignInSettings)

    @field_validator("ocr_languages")
    @classmethod
    def _tesseract_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not re.fullmatch(r"[a-z]{3}(_[a-z]+)?", code)]
        if bad:
            raise ValueError(f"not Tesseract language codes: {bad} (use e.g. eng, kor, chi_sim)")
        return value


class FineTuneSettings(_Strict):
    """The fine-tune tab's switch and limits (`fine_tune:` in the catalog). A public app may turn
    training off (`enabled: false`): the tab is then not served, whatever `tabs.fine_tune` lists."""

    enabled: bool = True
    # Trainings that run at once; more wait in turn (each sees its place), at most max_waiting of them.
    max_jobs: int = Field(default=1, ge=1, le=8)
    max_waiting: int = Field(default=8, ge=0, le=256)
    # The labelled data: rows and MB of an uploaded file, distinct labels.
    max_rows: int = Field(default=5000, ge=4)
    max_mb: float = Field(default=5, gt=0)
    max_labels: int = Field(default=50, ge=2, le=1000)
    # Training settings a request may ask for.
    max_epochs: int = Field(default=20, ge=1, le=1000)
    max_length: int = Field(default=256, ge=8, le=8192)
    max_batch_size: int = Field(default=64, ge=1, le=4096)
    # Fine-tuned models kept for this run (listed in the text classification tab); the oldest go first.
    keep_models: int = Field(default=5, ge=1, le=100)
    # Where fine-tuned models are saved (relative: next to the catalog); unset: a temporary folder of the
    # run, deleted when the app exits.
    output_dir: str | None = None


class TabConfig(_Strict):
    task: str = ""
    models: list[ModelEntry] = Field(min_length=1)


class Catalog(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    tabs: dict[str, TabConfig] = Field(min_length=1)
    fine_tune: FineTuneSettings = Field(default_factory=FineTuneSettings)
    # Set by load_catalog: where the file lives, so relative model paths resolve against it.
    source: Path | None = Field(default=None, exclude=True)

    def models_for(self, tab: str, task: str | None = None) -> list[ModelEntry]:
        return [m for m in self.tabs[tab].models if task is None or m.task == task]

    def default_model(self, tab: str, task: str | None = None) -> ModelEntry:
        models = self.models_for(tab, task)
        if not models:
            raise KeyError(f"tab {tab!r} has no model for task {task!r}")
        return next((m for m in models if m.default), models[0])

    def find(self, tab: str, ref: str, task: str | None = None) -> ModelEntry | None:
        """The entry whose id or label is `ref` (case-insensitive label match)."""
        for entry in self.models_for(tab, task):
            if ref == entry.id or ref.strip().lower() == entry.label.lower():
                return entry
        return None

    def serves(self, tab: str) -> bool:
        """Whether the catalog serves `tab`: it has the tab's block and no switch turns it off."""
        return tab in self.tabs and (tab != FINE_TUNE_TAB or self.fine_tune.enabled)

    def receives_models(self, tab: str) -> bool:
        """Whether models may be added to `tab` while the app runs (the fine-tune tab's results)."""
        return tab in FINE_TUNED_MODELS_TABS.values() and tab in self.tabs and self.serves(FINE_TUNE_TAB)

    def add_model(self, tab: str, entry: ModelEntry) -> None:
        """List `entry` in `tab` for this run only (never written to the file): found by its id or
        label like any entry; refused if its id or label is taken or the tab does not serve its task."""
        if tab not in self.tabs:
            raise KeyError(f"the catalog has no tab {tab!r}")
        if entry.task not in TAB_TASKS[tab]:
            raise ValueError(f"tab {tab!r} does not serve task {entry.task!r}")
        if self.find(tab, entry.id) or self.find(tab, entry.label):
            raise ValueError(f"tab {tab!r} already lists {entry.id!r} or {entry.label!r}")
        self.tabs[tab].models.append(entry)

    def remove_model(self, tab: str, model_id: str) -> None:
        """Take an entry added with `add_model` off the tab's list (a catalog keeps at least one)."""
        models = self.tabs[tab].models
        if len(models) > 1:
            models[:] = [entry for entry in models if entry.id != model_id]

    def resolve_path(self, entry: ModelEntry) -> str:
        """The string to hand to `from_pretrained`: a Hub id, or an absolute local path."""
        if not entry.is_local:
            return entry.id
        return self.resolve_folder(entry.id)

    def resolve_folder(self, folder: str) -> str:
        """An absolute path for a folder the catalog names (relative ones are next to the catalog file)."""
        path = Path(folder).expanduser()
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        return str(path.resolve())


def _check_semantics(catalog: Catalog) -> list[str]:
    problems: list[str] = []
    for tab_key, tab in catalog.tabs.items():
        if tab_key not in TAB_TASKS:
            problems.append(f"tabs.{tab_key}: unknown tab (known tabs: {', '.join(TAB_TASKS)})")
            continue
        allowed = TAB_TASKS[tab_key]
        defaults_per_task: dict[str, str] = {}
        seen: set[str] = set()
        for index, entry in enumerate(tab.models):
            where = f"tabs.{tab_key}.models[{index}] ({entry.id})"
            if not entry.task:
                entry.task = tab.task or (allowed[0] if len(allowed) == 1 else "")
            if entry.task not in allowed:
                problems.append(
                    f"{where}: task {entry.task or '(missing)'!r} is not served by this tab "
                    f"(use one of: {', '.join(allowed)})"
                )
            if entry.endpoint is not None and entry.task not in ENDPOINT_TASKS:
                problems.append(
                    f"{where}: an endpoint serves only {', '.join(ENDPOINT_TASKS)} models, not {entry.task!r}"
                )
            if entry.document and entry.task != "image-text-to-text":
                problems.append(f"{where}: document: true only applies to image-text-to-text models")
            if entry.prompt and (entry.task != "image-text-to-text" or entry.document):
                problems.append(f"{where}: prompt only applies to image-text-to-text picture models")
            if entry.id in seen:
                problems.append(f"{where}: the same id is listed twice")
            seen.add(entry.id)
            if entry.default:
                if entry.task in defaults_per_task:
                    problems.append(
                        f"{where}: a second default for task {entry.task!r} (already {defaults_per_task[entry.task]})"
                    )
                defaults_per_task[entry.task] = entry.id
    return problems


def parse_catalog(data: Any, source: Path | None = None) -> Catalog:
    """Validate already-parsed YAML; raises CatalogError naming the entry and the problem."""
    name = str(source) if source else "catalog"
    if not isinstance(data, dict):
        raise CatalogError(f"{name}: the catalog must be a mapping with 'defaults' and 'tabs'")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
            loc = loc.replace(".[", "[")
            lines.append(f"  {loc}: {err['msg']}")
        raise CatalogError(f"{name}: invalid catalog\n" + "\n".join(lines)) from None
    catalog.source = source.resolve() if source else None
    problems = _check_semantics(catalog)
    if problems:
        raise CatalogError(f"{name}: invalid catalog\n" + "\n".join(f"  {p}" for p in problems))
    return catalog


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc})") from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_catalog(data, path)


__all__ = [
    "Catalog",
    "CatalogError",
    "Defaults",
    "ENDPOINT_TASKS",
    "Endpoint",
    "HuggingFaceSignIn",
    "FineTuneSettings",
    "ModelEntry",
    "SignInSettings",
    "TabConfig",
    "load_catalog",
    "parse_catalog",
]
