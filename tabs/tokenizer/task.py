"""Tokenizer task logic: load a catalog model's tokenizer alone, encode, compare, pad, decode, chat templates.

Only the tokenizer files are read (AutoTokenizer), never the weights: a local folder or the Hugging
Face cache first, the Hub only when it answers (playground.loading.hub). Loaded tokenizers are kept in a small
cache of their own (TokenizerCache), apart from the model manager's budget: they take megabytes, not gigabytes.
Pure functions over a tokenizer plus the HTML views and the "show code" snippets; no Gradio.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.config.catalog import Catalog, ModelEntry
from playground.core.snippets import Raw, format_call
from playground.core.texts import LocalizedError, Texts

TEXTS = Texts.load("tokenizer.task", Path(__file__).with_name("locales"))

# Bounds that keep one request quick whatever is pasted.
MAX_CHARACTERS = 20_000
MAX_COMPARE = 6
MAX_BATCH_LINES = 16
MAX_BATCH_LENGTH = 512
MAX_IDS = 4096
MAX_MESSAGES = 20
# Tokenizers kept loaded (each a few MB).
CACHE_SIZE = 16
# transformers' stand-in for "no limit known" is about 1e30.
NO_LIMIT = 10**9
PADDING_CHOICES = ("longest", "max_length", "do_not_pad")
ROLES = ("system", "user", "assistant")
# Files any tokenizer is saved as; a model folder with none of them has no tokenizer.
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
    "special_tokens_map.json",
)


# ---- finding and loading a tokenizer ---------------------------------------------------------------


def catalog_entries(catalog: Catalog, tab: str) -> list[ModelEntry]:
    """Every model whose tokenizer the tab offers: its own block first, then every other tab's models
    (one entry per model id; models served by another machine's engine are left out)."""
    seen: set[str] = set()
    entries = []
    for key in [tab, *(k for k in catalog.tabs if k != tab)]:
        for entry in catalog.tabs[key].models if key in catalog.tabs else []:
            if entry.id not in seen and not entry.is_remote:
                seen.add(entry.id)
                entries.append(entry)
    return entries


def listed_entry(catalog: Catalog, tab: str, model: str) -> ModelEntry | None:
    """The catalog entry (any tab) whose id or label is `model`, if any."""
    ref = model.strip()
    # Every entry, duplicates included: the same model may carry another label on another tab.
    everything = [
        e
        for key in [tab, *(k for k in catalog.tabs if k != tab)]
        if key in catalog.tabs
        for e in catalog.tabs[key].models
        if not e.is_remote
    ]
    return next((e for e in everything if ref == e.id or ref.lower() == e.label.lower()), None)


@dataclass
class LoadedTokenizer:
    entry: ModelEntry
    tokenizer: Any
    # A fast tokenizer's padding and truncation settings live in the tokenizer object: one call at a time.
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def limit(self) -> int | None:
        """The longest input the model takes, in tokens (None when the tokenizer does not say)."""
        length = getattr(self.tokenizer, "model_max_length", None)
        return int(length) if isinstance(length, (int, float)) and 0 < length < NO_LIMIT else None


class TokenizerCache:
    """Loaded tokenizers by source and revision, each with its lock (several entries may share the
    same files); the CACHE_SIZE most recently used are kept. Thread safe."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._tokenizers: OrderedDict[str, tuple[Any, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, catalog: Catalog, entry: ModelEntry) -> LoadedTokenizer:
        """The entry's tokenizer, from the cache or read now (its files only)."""
        source = catalog.resolve_path(entry)
        key = f"{source}@{entry.revision}"
        with self._lock:
            cached = self._tokenizers.get(key)
            if cached is not None:
                self._tokenizers.move_to_end(key)
        if cached is None:
            cached = (_read_tokenizer(entry, source), threading.Lock())
            with self._lock:
                cached = self._tokenizers.setdefault(key, cached)
                while len(self._tokenizers) > self.size:
                    self._tokenizers.popitem(last=False)
        return LoadedTokenizer(entry, *cached)


def _read_tokenizer(entry: ModelEntry, source: str) -> Any:
    """AutoTokenizer on a local folder or the cache; the Hub only once it is known to answer."""
    from transformers import AutoTokenizer

    from playground.loading.hub import (
        HUB,
        HUB_STOPPED_ANSWERING,
        HubUnreachable,
        bound_hub_requests,
        cached_snapshot,
        network_failure,
        offline,
    )
    from playground.loading.load_errors import explain_load_error
    from playground.loading.model_manager import hub_down_error

    kwargs = {"revision": entry.revision, "trust_remote_code": entry.trust_remote_code}
    try:
        if Path(source).is_absolute() or offline():
            return AutoTokenizer.from_pretrained(source, **kwargs)
        try:
            return AutoTokenizer.from_pretrained(source, local_files_only=True, **kwargs)
        except Exception:  # not (completely) in the cache: the Hub, if it answers
            pass
        bound_hub_requests()
        HUB.check(source)
        return AutoTokenizer.from_pretrained(source, **kwargs)
    except HubUnreachable as exc:
        raise hub_down_error(exc, entry) from None
    except LocalizedError:
        raise
    except Exception as exc:  # classified below: no tokenizer, the Hub, or the load error's own reason
        folder = Path(source) if Path(source).is_absolute() else cached_snapshot(source, entry.revision)
        if folder is not None and folder.is_dir() and not any((folder / name).is_file() for name in _TOKENIZER_FILES):
            raise TEXTS.error("no_tokenizer", name=entry.label) from None
        if network_failure(exc) and not entry.is_local:
            HUB.record_failure(HUB_STOPPED_ANSWERING)
            raise hub_down_error(HubUnreachable(HUB.endpoint, HUB_STOPPED_ANSWERING, HUB.retry_seconds), entry) from exc
        raise explain_load_error(exc, entry, folder) from exc


# ---- checking inputs ---------------------------------------------------------------------------------


def check_text(text: str | None) -> str:
    """The text to tokenize: not blank, at most MAX_CHARACTERS (kept as typed: spaces are tokens too)."""
    if not text or not text.strip():
        raise TEXTS.error("empty_text")
    if len(text) > MAX_CHARACTERS:
        raise TEXTS.error("text_too_long", count=len(text), limit=MAX_CHARACTERS)
    return text


def check_lines(texts: str | None) -> list[str]:
    """The batch: one text a line, blank lines dropped, at most MAX_BATCH_LINES."""
    lines = [line for line in (texts or "").splitlines() if line.strip()]
    if not lines:
        raise TEXTS.error("empty_text")
    if len(lines) > MAX_BATCH_LINES:
        raise TEXTS.error("too_many_lines", count=len(lines), limit=MAX_BATCH_LINES)
    check_text("\n".join(lines))
    return lines


def parse_ids(ids: str | list[int] | None) -> list[int]:
    """Token ids from "101, 7592, 102", "[101 7592 102]" or a list."""
    parts = ids if isinstance(ids, list) else re.split(r"[\s,\[\]]+", ids or "")
    values = []
    for part in parts:
        if isinstance(part, int) or str(part).strip():
            try:
                values.append(int(part))
            except ValueError:
                raise TEXTS.error("bad_ids", value=str(part)[:40]) from None
    if not values:
        raise TEXTS.error("no_ids")
    if len(values) > MAX_IDS:
        raise TEXTS.error("too_many_ids", count=len(values), limit=MAX_IDS)
    return values


def parse_conversation(conversation: str | None) -> list[dict[str, str]]:
    """Messages from lines such as "user: Hello" (a line without a role continues the message before)."""
    messages: list[dict[str, str]] = []
    for line in (conversation or "").splitlines():
        match = re.match(rf"\s*({'|'.join(ROLES)})\s*:\s?(.*)$", line, re.IGNORECASE)
        if match:
            messages.append({"role": match.group(1).lower(), "content": match.group(2)})
        elif messages:
            messages[-1]["content"] += "\n" + line
        elif line.strip():
            raise TEXTS.error("bad_conversation", line=line.strip()[:80])
    if not messages:
        raise TEXTS.error("empty_conversation")
    if len(messages) > MAX_MESSAGES:
        raise TEXTS.error("too_many_messages", count=len(messages), limit=MAX_MESSAGES)
    return [{"role": m["role"], "content": m["content"].strip()} for m in messages]


# ---- encoding ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    """One text (or pair) as the tokenizer encodes it."""

    tokens: list[str]
    input_ids: list[int]
    attention_mask: list[int]
    token_type_ids: list[int] | None
    offsets: list[tuple[int, int]] | None
    special: list[bool]
    pieces: list[str]
    # Which text each token came from (0, or 1 for a pair's second text; None for special tokens).
    sequences: list[int | None] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "input_ids": self.input_ids,
            "attention_mask": self.attention_mask,
            "token_type_ids": self.token_type_ids,
            "offsets": [list(o) for o in self.offsets] if self.offsets is not None else None,
            "special_tokens_mask": [int(s) for s in self.special],
        }


def encode(
    loaded: LoadedTokenizer, text: str, text_pair: str | None = None, add_special_tokens: bool = True
) -> Encoding:
    """Tokens, ids, masks, offsets (fast tokenizers) and which tokens are special, for a text or a pair."""
    tokenizer = loaded.tokenizer
    with loaded.lock:
        encoded = tokenizer(
            text,
            text_pair or None,
            add_special_tokens=add_special_tokens,
            return_offsets_mapping=bool(tokenizer.is_fast),
            return_special_tokens_mask=True,
        )
    ids = list(encoded["input_ids"])
    specials = set(tokenizer.all_special_ids)
    mask = encoded.get("special_tokens_mask") or [0] * len(ids)
    type_ids = encoded.get("token_type_ids") if "token_type_ids" in tokenizer.model_input_names else None
    offsets = [tuple(o) for o in encoded["offset_mapping"]] if "offset_mapping" in encoded else None
    return Encoding(
        tokens=tokenizer.convert_ids_to_tokens(ids),
        input_ids=ids,
        attention_mask=list(encoded.get("attention_mask") or [1] * len(ids)),
        token_type_ids=list(type_ids) if type_ids is not None else None,
        offsets=offsets,
        special=[bool(m) or i in specials for m, i in zip(mask, ids)],
        pieces=[tokenizer.decode([i]) for i in ids],
        sequences=list(encoded.sequence_ids()) if tokenizer.is_fast else None,
    )


def ids_encoding(loaded: LoadedTokenizer, ids: list[int]) -> Encoding:
    """Ids typed by hand as an Encoding (no text, so no offsets)."""
    tokenizer = loaded.tokenizer
    specials = set(tokenizer.all_special_ids)
    return Encoding(
        tokens=tokenizer.convert_ids_to_tokens(ids),
        input_ids=ids,
        attention_mask=[1] * len(ids),
        token_type_ids=None,
        offsets=None,
        special=[i in specials for i in ids],
        pieces=[tokenizer.decode([i]) for i in ids],
    )


def decode_both(loaded: LoadedTokenizer, ids: list[int]) -> tuple[str, str]:
    """`decode(ids)` and `decode(ids, skip_special_tokens=True)`."""
    return loaded.tokenizer.decode(ids), loaded.tokenizer.decode(ids, skip_special_tokens=True)


def check_ids_known(loaded: LoadedTokenizer, ids: list[int]) -> None:
    size = len(loaded.tokenizer)
    bad = [i for i in ids if not 0 <= i < size]
    if bad:
        raise TEXTS.error("unknown_ids", ids=", ".join(map(str, bad[:10])), size=size)


def length_note(loaded: LoadedTokenizer, count: int, lang: str) -> str:
    """A warning when the tokens are more than the model takes ("" otherwise)."""
    limit = loaded.limit
    if limit is None or count <= limit:
        return ""
    return TEXTS.get("past_limit", lang, count=count, limit=limit, name=loaded.entry.label)


def unknown_count(loaded: LoadedTokenizer, ids: list[int]) -> int:
    unk = loaded.tokenizer.unk_token_id
    return sum(1 for i in ids if unk is not None and i == unk)


def counts(encoding: Encoding, text: str) -> dict[str, Any]:
    """Tokens, characters and characters per token (special tokens not counted as the text's tokens)."""
    real = sum(1 for s in encoding.special if not s)
    return {
        "token_count": len(encoding.input_ids),
        "text_token_count": real,
        "characters": len(text),
        "characters_per_token": round(len(text) / real, 2) if real else 0.0,
    }


def summary_markdown(loaded: LoadedTokenizer, encoding: Encoding, text: str, lang: str) -> str:
    """Counts, limit, the two decodings and the tokenizer's kind, as Markdown."""
    numbers = counts(encoding, text)
    plain, skipped = decode_both(loaded, encoding.input_ids)
    lines = [
        TEXTS.get("counts", lang, **numbers, special=numbers["token_count"] - numbers["text_token_count"]),
        TEXTS.get(
            "kind",
            lang,
            cls=type(loaded.tokenizer).__name__,
            vocab=len(loaded.tokenizer),
            limit=loaded.limit or "—",
            fast="fast" if loaded.tokenizer.is_fast else "slow",
        ),
        f"- `decode(ids)`: `{_code_text(plain)}`",
        f"- `decode(ids, skip_special_tokens=True)`: `{_code_text(skipped)}`",
    ]
    if encoding.offsets is None:
        lines.append(TEXTS.get("no_offsets", lang))
    note = length_note(loaded, len(encoding.input_ids), lang)
    if note:
        lines.append(f"⚠️ {note}")
    return "\n".join(lines)


def _code_text(text: str, limit: int = 400) -> str:
    shown = text if len(text) <= limit else text[:limit] + " …"
    return shown.replace("`", "'").replace("\n", "⏎")


def token_table(encoding: Encoding) -> tuple[list[str], list[list[Any]]]:
    """One row per token: position, token, id, as text, special, offsets, type id, attention mask."""
    header = ["#", "token", "id", "text", "special", "start", "end", "token_type_id", "attention_mask"]
    rows = []
    for index, (token, token_id) in enumerate(zip(encoding.tokens, encoding.input_ids)):
        start, end = encoding.offsets[index] if encoding.offsets is not None else (None, None)
        type_id = encoding.token_type_ids[index] if encoding.token_type_ids is not None else None
        rows.append(
            [
                index,
                token,
                token_id,
                encoding.pieces[index],
                encoding.special[index],
                start,
                end,
                type_id,
                encoding.attention_mask[index],
            ]
        )
    return header, rows


def offset_spans(text: str, encoding: Encoding) -> list[tuple[str, str | None]]:
    """The text cut where its tokens came from, each piece labelled `#position token` (gaps unlabelled),
    for a highlighted view; a pair's second text follows its own offsets."""
    if encoding.offsets is None:
        return [(text, None)]
    spans: list[tuple[str, str | None]] = []
    position = 0
    for index, (start, end) in enumerate(encoding.offsets):
        # Special tokens have no characters; a character split over several byte tokens counts once.
        first_text = encoding.sequences is None or encoding.sequences[index] == 0
        if not first_text or encoding.special[index] or end <= start or start < position or end > len(text):
            continue
        if start > position:
            spans.append((text[position:start], None))
        spans.append((text[start:end], f"#{index} {encoding.tokens[index]}"))
        position = end
    if position < len(text):
        spans.append((text[position:], None))
    return spans


# ---- the coloured token view -------------------------------------------------------------------------

_PALETTE = ("#fde68a", "#bbf7d0", "#bfdbfe", "#fbcfe8", "#ddd6fe", "#fed7aa")
_STYLE = (
    "<style>.tok-row{display:flex;flex-wrap:wrap;gap:3px;margin:4px 0 10px}"
    ".tok{display:inline-flex;flex-direction:column;align-items:center;padding:2px 5px;border-radius:5px;"
    "font-family:ui-monospace,monospace;color:#111;line-height:1.25}"
    ".tok small{font-size:0.72em;color:#444}.tok.special{background:#e5e7eb;border:2px dashed #6b7280}"
    ".tok-label{font-weight:600;margin-top:6px}</style>"
)


def tokens_html(encoding: Encoding, label: str = "", note: str = "") -> str:
    """Tokens as coloured boxes with their ids underneath; special tokens grey with a dashed border."""
    boxes = []
    for index, (token, token_id) in enumerate(zip(encoding.tokens, encoding.input_ids)):
        special = encoding.special[index]
        colour = "" if special else f' style="background:{_PALETTE[index % len(_PALETTE)]}"'
        title = html.escape(f"#{index} {token} (id {token_id}){' special' if special else ''}", quote=True)
        shown = html.escape(token).replace(" ", "&nbsp;") or "&nbsp;"
        boxes.append(
            f'<span class="tok{" special" if special else ""}"{colour} title="{title}">{shown}'
            f"<small>{token_id}</small></span>"
        )
    heading = f'<div class="tok-label">{html.escape(label)} <small>{html.escape(note)}</small></div>' if label else ""
    return f'{heading}<div class="tok-row">{"".join(boxes)}</div>'


def page_html(parts: list[str]) -> str:
    """Token views with their style, below the component's label (which floats over the top)."""
    return _STYLE + '<div style="padding-top:30px">' + "".join(parts) + "</div>"


# ---- batches, chat templates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A padded (and perhaps truncated) batch: ids and attention mask, one row per text."""

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    truncated: list[bool]


def encode_batch(
    loaded: LoadedTokenizer, texts: list[str], padding: str, max_length: int | None, truncation: bool
) -> Batch:
    """The tokenizer's call on a list of texts with the given padding and truncation."""
    tokenizer = loaded.tokenizer
    if padding not in PADDING_CHOICES:
        raise TEXTS.error("bad_padding", padding=padding, choices=", ".join(PADDING_CHOICES))
    if padding != "do_not_pad" and tokenizer.pad_token is None:
        raise TEXTS.error("no_pad_token", name=loaded.entry.label)
    if (padding == "max_length" or truncation) and not max_length:
        max_length = loaded.limit
        if max_length is None:
            raise TEXTS.error("need_max_length")
    if max_length is not None and not 1 <= max_length <= MAX_BATCH_LENGTH:
        raise TEXTS.error("bad_max_length", value=max_length, limit=MAX_BATCH_LENGTH)
    with loaded.lock:
        full = tokenizer(texts)["input_ids"]
        encoded = tokenizer(texts, padding=padding, truncation=bool(truncation), max_length=max_length)
    ids = [list(row) for row in encoded["input_ids"]]
    masks = [list(row) for row in encoded["attention_mask"]]
    # A text was cut when it had more tokens than remain unmasked after truncation.
    truncated = [len(whole) > sum(mask) for whole, mask in zip(full, masks)]
    return Batch(ids, masks, truncated)


def batch_tables(batch: Batch) -> tuple[list[str], list[list[Any]], list[list[Any]]]:
    """A header (text number, then one column per position) with the ids rows and the attention mask rows."""
    width = max(len(row) for row in batch.input_ids)
    header = ["#", *(str(i) for i in range(width))]

    def filled(row: list[int]) -> list[Any]:  # rows without padding are ragged
        return [*row, *([""] * (width - len(row)))]

    ids = [[n, *filled(row)] for n, row in enumerate(batch.input_ids)]
    masks = [[n, *filled(row)] for n, row in enumerate(batch.attention_mask)]
    return header, ids, masks


def apply_chat_template(loaded: LoadedTokenizer, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    """The prompt text the chat template makes of the conversation."""
    tokenizer = loaded.tokenizer
    if not getattr(tokenizer, "chat_template", None):
        raise TEXTS.error("no_chat_template", name=loaded.entry.label)
    try:
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=bool(add_generation_prompt)
        )
    except Exception as exc:  # a template may refuse a conversation (e.g. no system role, roles not alternating)
        raise TEXTS.error("template_refused", name=loaded.entry.label, detail=str(exc)[:200]) from None


# ---- code snippets -------------------------------------------------------------------------------------


def _load_line(entry: ModelEntry, name: str = "tokenizer") -> str:
    kwargs = {k: v for k, v in (("revision", entry.revision), ("trust_remote_code", entry.trust_remote_code)) if v}
    return f"{name} = " + format_call("AutoTokenizer.from_pretrained", [entry.id], kwargs)


def tokenize_snippet(entry: ModelEntry, text: str, text_pair: str | None, add_special_tokens: bool) -> str:
    """AutoTokenizer code that prints the same tokens, masks and decodings; its last line is the ids."""
    args = [text, text_pair] if text_pair else [text]
    call = format_call("tokenizer", args, {} if add_special_tokens else {"add_special_tokens": False})
    return (
        "\n".join(
            [
                "from transformers import AutoTokenizer",
                "",
                _load_line(entry),
                f"encoding = {call}",
                'print(tokenizer.convert_ids_to_tokens(encoding["input_ids"]))',
                'print("attention_mask:", encoding["attention_mask"])',
                'print("token_type_ids:", encoding.get("token_type_ids"))',
                'print(tokenizer.decode(encoding["input_ids"]))',
                'print(tokenizer.decode(encoding["input_ids"], skip_special_tokens=True))',
                'print(encoding["input_ids"])',
            ]
        )
        + "\n"
    )


def compare_snippet(entries: list[ModelEntry], text: str) -> str:
    """A loop over the models that prints each one's token count and tokens."""
    ids = [e.id for e in entries]
    return (
        "\n".join(
            [
                "from transformers import AutoTokenizer",
                "",
                f"text = {text!r}",
                f"for model_id in {ids!r}:",
                "    tokenizer = AutoTokenizer.from_pretrained(model_id)",
                '    ids = tokenizer(text)["input_ids"]',
                "    print(model_id, len(ids), tokenizer.convert_ids_to_tokens(ids))",
            ]
        )
        + "\n"
    )


def batch_snippet(entry: ModelEntry, texts: list[str], padding: str, max_length: int | None, truncation: bool) -> str:
    """The batch call; its last line prints the padded ids."""
    kwargs: dict[str, Any] = {"padding": padding, "truncation": bool(truncation)}
    if max_length:
        kwargs["max_length"] = max_length
    return (
        "\n".join(
            [
                "from transformers import AutoTokenizer",
                "",
                _load_line(entry),
                f"texts = {texts!r}",
                "batch = " + format_call("tokenizer", [Raw("texts")], kwargs),
                'print(batch["attention_mask"])',
                'print(batch["input_ids"])',
            ]
        )
        + "\n"
    )


def decode_snippet(entry: ModelEntry, ids: list[int]) -> str:
    return (
        "\n".join(
            [
                "from transformers import AutoTokenizer",
                "",
                _load_line(entry),
                f"ids = {ids!r}",
                "print(tokenizer.convert_ids_to_tokens(ids))",
                "print(tokenizer.decode(ids))",
                "print(tokenizer.decode(ids, skip_special_tokens=True))",
            ]
        )
        + "\n"
    )


def chat_snippet(entry: ModelEntry, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    return (
        "\n".join(
            [
                "from transformers import AutoTokenizer",
                "",
                _load_line(entry),
                f"messages = {messages!r}",
                (
                    "prompt = tokenizer.apply_chat_template(messages, tokenize=False, "
                    f"add_generation_prompt={bool(add_generation_prompt)})"
                ),
                "print(prompt)",
            ]
        )
        + "\n"
    )
