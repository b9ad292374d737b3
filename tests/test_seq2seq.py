"""Summarization and translation through the launched app: streaming, beams, long inputs (cut or
translated in pieces), language codes of one-pair and many-to-many models, the AutoModel snippet
and bad input."""

from __future__ import annotations

import re

import pytest
from course_helpers import call_kwargs, expected_from_pretrained_kwargs, loaded_kwargs
from gradio_client.exceptions import AppError
from snippets import run_snippet

BART = "BART summarizer (test)"
T5 = "T5 summarizer (test)"
MARIAN = "Marian fr-en (test)"
NLLB = "NLLB many-to-many (test)"
COURSE_FRENCH = "Ce cours est produit par Hugging Face."
PARAGRAPH = "This course is about the Transformers library. It is free. " * 3


def shown_texts(client, api_name: str, *args: object) -> list[str]:  # noqa: ANN001
    """The text output of every update of one call, the last one whole, as a page shows them in turn."""
    job = client.submit(*args, api_name=api_name)
    job.result()
    return [output[0] for output in job.outputs()]


def streams(texts: list[str]) -> bool:
    """Part of the text was shown before all of it (updates come at most ten a second, so the call
    must write for longer than a tenth of a second)."""
    return any(0 < len(text) < len(texts[-1]) and texts[-1].startswith(text.rstrip()) for text in texts[:-1])


# ---- summarization --------------------------------------------------------------------------------


def test_summary_streams_with_one_beam_and_arrives_whole_with_beams(course_client) -> None:
    streamed = shown_texts(course_client, "/summarize", PARAGRAPH, BART, 96, 96, 1)
    searched = shown_texts(course_client, "/summarize", PARAGRAPH, BART, 96, 96, 2)
    assert streams(streamed) and len(streamed) >= 3, streamed
    assert not streams(searched) and searched[-1].strip(), searched


@pytest.mark.parametrize("model", [BART, T5])
def test_summary_snippet_writes_the_same_text(course_client, test_models, model) -> None:
    summary, note, code = course_client.predict(PARAGRAPH, model, 10, 3, 1, api_name="/summarize")
    assert summary.strip()
    assert run_snippet(code, cwd=test_models).rstrip("\n") == summary
    assert "min_new_tokens=3" in code and "max_new_tokens=10" in code
    assert call_kwargs(code, "AutoModelForSeq2SeqLM.from_pretrained") == expected_from_pretrained_kwargs(
        loaded_kwargs(course_client, model)
    )
    if model == T5:
        assert "'summarize: '" in note and "summarize: This course" in code
    else:
        assert "read the whole text" in note


def test_long_text_is_cut_to_the_model_limit_and_says_so(course_client, test_models) -> None:
    summary, note, code = course_client.predict(PARAGRAPH * 10, BART, 5, 0, 1, api_name="/summarize")
    kept, total = map(int, re.search(r"first (\d+) of (\d+) tokens", note).groups())
    assert kept == 128 < total
    assert run_snippet(code, cwd=test_models).rstrip("\n") == summary


def test_text_alone_summarizes(course_client) -> None:
    summary, note, code = course_client.predict(PARAGRAPH, api_name="/summarize")
    # The test BART's decoder has 128 positions, one of them its start token: 128 new tokens cannot fit.
    assert isinstance(summary, str) and "max_new_tokens=127" in code and "lowered from 128 to 127" in note


@pytest.mark.parametrize(
    "args, message",
    [
        (("",), "Type a text"),
        (("x" * 20_001,), "too long"),
        ((PARAGRAPH, BART, 5, 6), r"min_new_tokens \(6\) cannot be more than max_new_tokens \(5\)"),
        ((PARAGRAPH, BART, 0), "below the minimum"),
        ((PARAGRAPH, BART, 5, 0, 9), "above the maximum"),
        ((PARAGRAPH, BART, 5.5), "max_new_tokens must be a whole number"),
        ((PARAGRAPH, MARIAN), "not in this app's catalog"),
    ],
)
def test_bad_summary_input(course_client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(*args, api_name="/summarize")


# ---- translation ----------------------------------------------------------------------------------


def test_marian_translates_its_pair(course_client, test_models) -> None:
    # The test Marian model ships the real checkpoint's 4 beams: the default keeps them (the text
    # arrives at the end, and the note says why) and the snippet, which leaves them to the model, agrees.
    translation, note, code = course_client.predict(COURSE_FRENCH, MARIAN, "", "", 8, api_name="/translate")
    assert translation.strip() and "French → English" in note
    assert "num_beams=4 (the model's)" in note and "asks for 4 beams" in note
    assert "num_beams" not in code
    assert run_snippet(code, cwd=test_models).rstrip("\n") == translation
    assert call_kwargs(code, "AutoModelForSeq2SeqLM.from_pretrained") == expected_from_pretrained_kwargs(
        loaded_kwargs(course_client, MARIAN)
    )
    same, _, _ = course_client.predict(COURSE_FRENCH, MARIAN, "French", "en", 8, api_name="/translate")
    assert same == translation


def test_text_alone_translates_with_the_default_model(course_client) -> None:
    translation, note, _ = course_client.predict(COURSE_FRENCH, api_name="/translate")
    assert isinstance(translation, str) and "French → English" in note


def test_translation_streams(course_client) -> None:
    # A text of many sentences is translated in pieces: one stream across them all.
    text = " ".join([COURSE_FRENCH] * 12)
    assert streams(shown_texts(course_client, "/translate", text, MARIAN, "", "", 12, 1))
    # The model's own 4 beams (the default): each piece arrives whole, none streams token by token.
    searched = shown_texts(course_client, "/translate", COURSE_FRENCH, MARIAN, "", "", 12)
    assert not streams(searched) and searched[-1].strip()


@pytest.mark.parametrize(
    "source, target, codes",
    [
        ("fr", "ko", ("fra_Latn", "kor_Hang")),
        ("French", "Korean", ("fra_Latn", "kor_Hang")),
        ("eng_Latn", "de", ("eng_Latn", "deu_Latn")),
        ("", "", ("fra_Latn", "eng_Latn")),
    ],
)
def test_many_to_many_language_codes(course_client, test_models, source, target, codes) -> None:
    translation, note, code = course_client.predict(COURSE_FRENCH, NLLB, source, target, 6, api_name="/translate")
    assert f"`{codes[0]}` → `{codes[1]}`" in note
    assert f"src_lang={codes[0]!r}" in code and f"convert_tokens_to_ids({codes[1]!r})" in code
    assert run_snippet(code, cwd=test_models).rstrip("\n") == translation


def test_target_language_reaches_generate(course_client) -> None:
    # The test NLLB model's language codes have loud embeddings: the forced first token steers the rest.
    outputs = {
        course_client.predict(COURSE_FRENCH, NLLB, "fr", target, 6, api_name="/translate")[0]
        for target in ("ko", "de", "ja", "en")
    }
    assert len(outputs) > 1


def test_long_text_is_translated_in_pieces(course_client, test_models) -> None:
    text = " ".join([COURSE_FRENCH] * 80) + "\n\n" + COURSE_FRENCH
    translation, note, code = course_client.predict(text, MARIAN, "", "", 3, api_name="/translate")
    count = int(re.search(r"translated in (\d+) pieces", note).group(1))
    assert count >= 3
    lines = translation.split("\n")
    assert len(lines) == 3 and lines[1] == "", "line breaks survive"
    assert run_snippet(code, cwd=test_models).rstrip("\n") == translation


@pytest.mark.parametrize(
    "args, message",
    [
        (("",), "Type a text"),
        (("x" * 20_001,), "too long"),
        ((COURSE_FRENCH, MARIAN, "ko", "en"), "translates only French → English"),
        ((COURSE_FRENCH, MARIAN, "fr", "de"), "translates only French → English"),
        ((COURSE_FRENCH, MARIAN, "klingon"), "'klingon' is not a language this model knows"),
        ((COURSE_FRENCH, NLLB, "fr", "xx_Xxxx"), "'xx_Xxxx' is not a language this model knows"),
        ((COURSE_FRENCH, NLLB, "fr", "French"), r"source and target languages are the same \(French\)"),
        ((COURSE_FRENCH, NLLB, "fr", "en", 0), "below the minimum"),
        ((COURSE_FRENCH, BART), "not in this app's catalog"),
    ],
)
def test_bad_translation_input(course_client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(*args, api_name="/translate")


def test_korean_messages(course_app) -> None:
    from gradio_client import Client

    client = Client(course_app.url, verbose=False, headers={"Accept-Language": "ko"})
    with pytest.raises(AppError, match="이 모델이 아는 언어가 아닙니다"):
        client.predict(COURSE_FRENCH, NLLB, "fr", "klingon", api_name="/translate")
    _, note, _ = client.predict(COURSE_FRENCH, MARIAN, "", "", 3, api_name="/translate")
    assert "번역했습니다" in note


# ---- a chat model as summarizer and translator (through the generation interface) -------------------

CHAT = "Llama chat (test)"


def chat_messages(code: str) -> list[dict]:
    """The `messages = [...]` the generation snippet sends."""
    import ast

    assignment = next(
        node
        for node in ast.parse(code).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "messages"
    )
    return ast.literal_eval(assignment.value)


def test_chat_model_summarizes_with_a_shown_prompt(course_client, test_models) -> None:
    summary, note, code = course_client.predict(PARAGRAPH, CHAT, 8, api_name="/summarize")
    assert (
        "fixed prompt" in note
        and "Summarize the following text in a few sentences." in note
        and PARAGRAPH.strip() in note
    )
    assert "'text-generation'" in code and "do_sample=False" in code
    assert chat_messages(code)[0]["content"].startswith("Summarize the following text in a few sentences.")
    assert run_snippet(code, cwd=test_models).strip() == summary.strip()
    assert streams(shown_texts(course_client, "/summarize", PARAGRAPH, CHAT, 96, 0, 1)), "the answer streams"


@pytest.mark.parametrize(
    "source, target, names",
    [("", "", ("French", "English")), ("fr", "ko", ("French", "Korean")), ("fra_Latn", "German", ("French", "German"))],
)
def test_chat_model_translates_with_a_shown_prompt(course_client, source, target, names) -> None:
    translation, note, code = course_client.predict(COURSE_FRENCH, CHAT, source, target, 6, api_name="/translate")
    prompt = f"Translate the following text from {names[0]} to {names[1]}. Answer with the translation only."
    assert prompt in note and isinstance(translation, str)
    assert chat_messages(code) == [{"role": "user", "content": f"{prompt}\n\n{COURSE_FRENCH}"}]


@pytest.mark.parametrize("source, target, message", [("fr", "fr", "are the same"), ("klingon", "en", "not a language")])
def test_chat_translation_bad_languages(course_client, source, target, message) -> None:
    with pytest.raises(AppError, match=message):
        course_client.predict(COURSE_FRENCH, CHAT, source, target, api_name="/translate")


def test_a_translation_runs_on_an_engine_the_models_view_lists_and_cancelling_frees_it(course_client) -> None:
    import time

    def running() -> int:
        table = course_client.predict(api_name="/generation_activity")
        return sum(row[2] for row in table["data"] if row[0] == MARIAN)

    def wait_for(condition, timeout: float = 60) -> None:  # noqa: ANN001
        deadline = time.time() + timeout
        while not condition():
            assert time.time() < deadline, "timed out"
            time.sleep(0.05)

    job = course_client.submit(" ".join([COURSE_FRENCH] * 60), MARIAN, "", "", 1024, 1, api_name="/translate")
    wait_for(lambda: running() == 1)
    job.cancel()
    # The closed stream aborts the generate() call at its next step: the engine is free again.
    wait_for(lambda: running() == 0, timeout=3)
