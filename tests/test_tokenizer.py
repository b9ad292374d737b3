"""The tokenizer tab through the running app: ids equal AutoTokenizer's for every kind of tokenizer the
catalog lists, pairs, offsets, batches, decoding, chat templates, the comparison, the code, bad input."""

from __future__ import annotations

import ast
import shutil
import time
from pathlib import Path

import pytest
from gradio_client.exceptions import AppError
from snippets import last_line, run_snippet
from transformers import AutoTokenizer

BERT, ROBERTA, GPT2 = "BERT tokenizer (test)", "RoBERTa tokenizer (test)", "GPT-2 tokenizer (test)"
QWEN, WHISPER, CLIP = "Qwen2 chat tokenizer (test)", "Whisper tokenizer (test)", "CLIP tokenizer (test)"
FOLDERS = {BERT: "bert-mlm", ROBERTA: "roberta-mlm", GPT2: "gpt2", QWEN: "qwen2-chat", WHISPER: "whisper", CLIP: "clip"}
KOREAN = "트랜스포머 강좌에 오신 것을 환영합니다."


@pytest.fixture(scope="module")
def tokenizers(test_models: Path) -> dict[str, object]:
    return {label: AutoTokenizer.from_pretrained(test_models / folder) for label, folder in FOLDERS.items()}


def _rows(table: dict) -> list[dict]:
    return [dict(zip(table["headers"], row)) for row in table["data"]]


@pytest.mark.parametrize("model", list(FOLDERS))
def test_ids_equal_autotokenizers(client, tokenizers, model) -> None:
    text = "I've been waiting for a HuggingFace course my whole life. " + KOREAN
    html, spans, summary, table, details, code = client.predict(text, model, "", True, api_name="/tokenize")
    expected = tokenizers[model](text)
    assert details["input_ids"] == expected["input_ids"]
    assert details["tokens"] == tokenizers[model].convert_ids_to_tokens(expected["input_ids"])
    assert details["attention_mask"] == [1] * len(expected["input_ids"])
    specials = set(tokenizers[model].all_special_ids)
    assert details["special_tokens_mask"] == [int(i in specials) for i in expected["input_ids"]]
    assert details["decoded"] == tokenizers[model].decode(expected["input_ids"])
    assert details["decoded_skip_special_tokens"] == tokenizers[model].decode(
        expected["input_ids"], skip_special_tokens=True
    )
    assert [row["id"] for row in _rows(table)] == expected["input_ids"]
    assert f"**{len(expected['input_ids'])}** tokens" in summary
    # Every id is drawn in the token view, special tokens with their own style.
    assert all(f"<small>{i}</small>" in html for i in expected["input_ids"])
    assert ("tok special" in html) == any(details["special_tokens_mask"])


def test_a_pair_has_token_type_ids_and_its_offsets_point_into_the_text(client, tokenizers) -> None:
    text, pair = "How old are you?", "I'm 6 years old"
    html, spans, summary, table, details, code = client.predict(text, BERT, pair, True, api_name="/tokenize")
    expected = tokenizers[BERT](text, pair, return_offsets_mapping=True)
    assert details["input_ids"] == expected["input_ids"]
    assert details["token_type_ids"] == expected["token_type_ids"]
    assert set(details["token_type_ids"]) == {0, 1} and details["token_type_ids"][0] == 0
    assert details["offsets"] == [list(o) for o in expected["offset_mapping"]]
    # The highlighted text is the first text again, each labelled piece the characters of its token.
    assert "".join(span["token"] for span in spans) == text
    labelled = [span for span in spans if span["class_or_confidence"]]
    assert [s["class_or_confidence"].split(" ", 1)[1] for s in labelled] == ["how", "old", "are", "you", "?"]
    assert [s["token"].lower() for s in labelled] == ["how", "old", "are", "you", "?"]


def test_without_special_tokens(client, tokenizers) -> None:
    *_, details, code = client.predict("Hello world", BERT, "", False, api_name="/tokenize")
    assert details["input_ids"] == tokenizers[BERT]("Hello world", add_special_tokens=False)["input_ids"]
    assert not any(details["special_tokens_mask"]) and "add_special_tokens=False" in code


def test_the_snippet_prints_the_apps_ids(client, test_models) -> None:
    *_, details, code = client.predict("How old are you?", ROBERTA, "I'm 6 years old", True, api_name="/tokenize")
    assert "AutoTokenizer.from_pretrained('./roberta-mlm')" in code
    assert ast.literal_eval(last_line(run_snippet(code, cwd=test_models))) == details["input_ids"]


def test_compare_counts_every_models_tokens(client, tokenizers, test_models) -> None:
    table, html, code = client.predict(KOREAN, [BERT, GPT2, WHISPER], api_name="/compare_tokenizers")
    rows = {row["model"]: row for row in _rows(table)}
    assert list(rows) == [BERT, GPT2, WHISPER]
    for model, row in rows.items():
        ids = tokenizers[model](KOREAN)["input_ids"]
        assert row["tokens"] == len(ids), model
        assert row["unknown_tokens"] == sum(i == tokenizers[model].unk_token_id for i in ids), model
        assert row["vocabulary"] == len(tokenizers[model])
    # The lesson: a WordPiece vocabulary without Hangul sees unknown words; byte-level BPE never does.
    assert rows[BERT]["unknown_tokens"] > 0 and rows[GPT2]["unknown_tokens"] == 0
    assert rows[GPT2]["tokens"] > rows[BERT]["tokens"]
    assert all(model in html for model in rows)
    printed = run_snippet(code, cwd=test_models).strip().splitlines()
    assert [int(line.split(" ")[1]) for line in printed] == [rows[m]["tokens"] for m in rows]


def test_compare_with_the_text_alone_takes_the_tabs_list(client) -> None:
    table, html, code = client.predict(KOREAN, api_name="/compare_tokenizers")
    assert [row["model"] for row in _rows(table)] == list(FOLDERS)


def test_batch_padding_and_truncation(client, tokenizers, test_models) -> None:
    texts = ["I've been waiting for a HuggingFace course my whole life.", "So have I!"]
    ids, masks, note, code = client.predict("\n".join(texts), BERT, "longest", 0, True, api_name="/tokenize_batch")
    expected = tokenizers[BERT](texts, padding="longest", truncation=True)
    assert [row[1:] for row in ids["data"]] == expected["input_ids"]
    assert [row[1:] for row in masks["data"]] == expected["attention_mask"]
    assert 0 in masks["data"][1][1:] and "[PAD]" in note
    assert ast.literal_eval(last_line(run_snippet(code, cwd=test_models))) == expected["input_ids"]
    ids, masks, note, code = client.predict("\n".join(texts), BERT, "max_length", 8, True, api_name="/tokenize_batch")
    assert all(len(row) == 9 for row in ids["data"])  # the text number, then 8 ids
    assert [row[1:] for row in ids["data"]] == tokenizers[BERT](
        texts, padding="max_length", truncation=True, max_length=8
    )["input_ids"]
    assert "Truncated: 0." in note


def test_batch_without_a_padding_token_says_how_to_fix_it(client) -> None:
    with pytest.raises(AppError, match="no padding token.*pad_token = tokenizer.eos_token"):
        client.predict("one\ntwo words", GPT2, "longest", 0, True, api_name="/tokenize_batch")
    ids, masks, note, code = client.predict("one\ntwo words", GPT2, "do_not_pad", 0, False, api_name="/tokenize_batch")
    assert len(ids["data"]) == 2


def test_ids_back_to_text(client, tokenizers, test_models) -> None:
    ids = tokenizers[BERT]("Hello world")["input_ids"]
    plain, skipped, html, code = client.predict(" ".join(map(str, ids)), BERT, api_name="/decode_ids")
    assert plain == tokenizers[BERT].decode(ids) and skipped == tokenizers[BERT].decode(ids, skip_special_tokens=True)
    assert "[CLS]" in plain and "[CLS]" not in skipped
    assert run_snippet(code, cwd=test_models).strip().splitlines()[-1] == skipped


def test_chat_template_for_a_chat_model(client, tokenizers, test_models) -> None:
    conversation = "system: You are a friendly teacher.\nuser: What is a token?"
    messages = [
        {"role": "system", "content": "You are a friendly teacher."},
        {"role": "user", "content": "What is a token?"},
    ]
    prompt, html, summary, code = client.predict(
        conversation, api_name="/chat_template"
    )  # the first chat model of the list
    assert prompt == tokenizers[QWEN].apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert "<|im_start|>assistant" in prompt and "tok special" in html
    assert run_snippet(code, cwd=test_models) == prompt + "\n"
    with pytest.raises(AppError, match="has no chat template"):
        client.predict(conversation, BERT, True, api_name="/chat_template")


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda c: c.predict("   ", api_name="/tokenize"), "Please enter some text"),
        (lambda c: c.predict("x" * 20_001, api_name="/tokenize"), "20001 characters; the limit here is 20000"),
        (lambda c: c.predict("hello", "someone/unknown-model", api_name="/tokenize"), "not in this app's catalog"),
        (lambda c: c.predict("hello", "ViT (test)", api_name="/tokenize"), "ViT \\(test\\) has no tokenizer"),
        (lambda c: c.predict("1, two", api_name="/decode_ids"), '"two" is not a token id'),
        (lambda c: c.predict("99999999", api_name="/decode_ids"), "not in the vocabulary"),
        (
            lambda c: c.predict("hello there", api_name="/chat_template"),
            'starts with "system:", "user:" or "assistant:"',
        ),
        (lambda c: c.predict(KOREAN, [BERT] * 7, api_name="/compare_tokenizers"), "at most 6 models"),
    ],
)
def test_bad_input_gets_a_clear_message(client, call, message) -> None:
    with pytest.raises(AppError, match=message):
        call(client)


def test_a_text_past_the_models_limit_is_tokenized_with_a_warning(client) -> None:
    *_, summary, table, details, code = client.predict("hello " * 600, BERT, api_name="/tokenize")
    assert len(details["input_ids"]) == 602 and details["model_max_length"] == 512
    assert "more than BERT tokenizer (test) takes (512)" in summary


def test_another_tabs_model_by_its_label(client, tokenizers) -> None:
    """Any catalog model's tokenizer: the fill-mask tab's BERT, named by its own label."""
    *_, details, code = client.predict("Hello world", "BERT MLM (test)", api_name="/tokenize")
    assert details["input_ids"] == tokenizers[BERT]("Hello world")["input_ids"]


# ---- the Hub rules: the cache first, a silent Hub answered quickly -------------------------------------


@pytest.fixture(scope="module")
def silent_hub_app(test_models: Path, test_catalog: Path, tmp_path_factory: pytest.TempPathFactory):
    from conftest import catalog_variant, launch_app
    from test_hub_unreachable import SilentServer, online_env

    root = tmp_path_factory.mktemp("tokenizer-silent-hub")
    server = SilentServer()
    # A tokenizer in the Hugging Face cache without any weights, as a tokenizer-only download leaves it.
    snapshot = root / "hf-home" / "hub" / "models--cached-org--bert" / "snapshots" / ("0" * 40)
    shutil.copytree(test_models / "bert-mlm", snapshot, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    tokenizer = [
        {"id": "cached-org/bert", "label": "Cached BERT", "default": True},
        {"id": "google-bert/bert-base-uncased", "label": "Hub BERT"},
    ]
    catalog = catalog_variant(test_catalog, root / "models.yaml", models={"tokenizer": tokenizer})
    running = launch_app(catalog, root, "--tabs", "tokenizer", env=online_env(server.url, root / "hf-home"))
    yield running
    running.stop()
    server.close()


def test_a_cached_tokenizer_loads_without_weights_or_the_hub(silent_hub_app, tokenizers) -> None:
    *_, details, code = silent_hub_app.client().predict("Hello world", "Cached BERT", api_name="/tokenize")
    assert details["input_ids"] == tokenizers[BERT]("Hello world")["input_ids"]


def test_a_silent_hub_is_answered_quickly_with_what_to_do(silent_hub_app) -> None:
    client = silent_hub_app.client()
    for limit in (20, 2):  # the first request probes the Hub; the next one knows
        started = time.monotonic()
        with pytest.raises(
            AppError, match=r"Hub BERT: the Hugging Face Hub \(.+\) (did not answer|could not be reached)"
        ):
            client.predict("Hello world", "Hub BERT", api_name="/tokenize")
        assert time.monotonic() - started < limit


def test_mcp_tools_answer_with_their_input_alone(test_catalog: Path, tmp_path: Path, tokenizers) -> None:
    import asyncio

    from conftest import launch_app
    from test_mcp import call_tools, schema, text_of

    running = launch_app(test_catalog, tmp_path, "--mcp", "--tabs", "tokenizer,embeddings")
    try:
        tools = schema(running)
        for name in (
            "tokenize",
            "compare_tokenizers",
            "tokenize_batch",
            "decode_ids",
            "chat_template",
            "embed",
            "embed_images",
        ):
            assert tools[name]["description"] and all(
                spec.get("description") for spec in tools[name]["inputSchema"]["properties"].values()
            ), name
        names, (tokenized, compared, embedded) = asyncio.run(
            call_tools(
                f"{running.url}gradio_api/mcp/",
                [
                    ("tokenize", {"text": "Hello world"}),
                    ("compare_tokenizers", {"text": KOREAN}),
                    ("embed", {"texts": "A cat.\nA dog."}),
                ],
            )
        )
    finally:
        running.stop()
    assert not tokenized.isError and not compared.isError and not embedded.isError, text_of(tokenized)
    assert str(tokenizers[BERT]("Hello world")["input_ids"]) in text_of(tokenized)
    assert all(model in text_of(compared) for model in FOLDERS)
    assert "Closest pair" in text_of(embedded)


def test_every_catalog_models_tokenizer(client, test_catalog: Path) -> None:
    """Any model of the catalog, any tab: its ids are AutoTokenizer's, or it reads pictures and says so."""
    from playground.config.catalog import load_catalog

    catalog = load_catalog(test_catalog)
    entries = {entry.id: entry for tab in catalog.tabs.values() for entry in tab.models}
    assert len(entries) > 20
    pictures = {
        entry.id
        for tab in catalog.tabs.values()
        for entry in tab.models
        if entry.task in ("image-classification", "image-feature-extraction")
    }
    for model_id, entry in entries.items():
        folder = Path(catalog.resolve_path(entry))
        # Vision models (also those another tab lists, e.g. a backbone for the anatomy tab) ship no tokenizer.
        if model_id in pictures or not any(folder.glob("tokenizer*")) and not (folder / "vocab.json").exists():
            with pytest.raises(AppError, match="has no tokenizer"):
                client.predict("Hello world", model_id, api_name="/tokenize")
            continue
        *_, details, code = client.predict("Hello world", model_id, api_name="/tokenize")
        expected = AutoTokenizer.from_pretrained(folder)("Hello world")["input_ids"]
        assert details["input_ids"] == expected, model_id
