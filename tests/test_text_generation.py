"""The text generation tab through the running app: streaming, seed, stop, truncation, bad input."""

from __future__ import annotations

import ast
import re
import time

import pytest
from gradio_client.exceptions import AppError
from snippets import run_snippet

CHAT = "Llama chat (test)"


def _run(client, prompt="Hello", **kw):
    args = dict(
        max_new_tokens=16,
        temperature=0.7,
        top_p=0.95,
        top_k=50,
        repetition_penalty=1.0,
        do_sample=True,
        seed=0,
        stop="",
    )
    args.update(kw)
    job = client.submit(prompt, CHAT, *args.values(), api_name="/generate")
    result = job.result()
    return job, result


def test_streams_and_seed_reproduces(client) -> None:
    job, (text, stats, code, alternatives) = _run(client, seed=3)
    assert len(job.outputs()) > 1
    assert "tokens/s" in stats and 0 < int(re.search(r"out (\d+)", stats).group(1)) <= 16
    assert "text-generation" in code
    _, (again, *_) = _run(client, seed=3)
    assert again == text


def test_stop_ends_early(client) -> None:
    job = client.submit("Hello", CHAT, 2000, 0.7, 0.95, 50, 1.0, True, 0, "", api_name="/generate")
    while len(job.outputs()) < 3:  # generation is under way
        time.sleep(0.1)
    client.predict(api_name="/stop_generation")
    start = time.time()
    while not job.done() and time.time() - start < 30:
        time.sleep(0.2)
    assert job.done()
    # The stopping criterion ended generate() itself: far fewer tokens than the 2000 asked for.
    _, stats, _, alternatives = job.outputs()[-1]
    produced = int(re.search(r"out (\d+)", stats).group(1))
    assert produced < 1000 and len(alternatives["data"]) < 1000
    # The worker is free again: the next request completes.
    _, (text, *_rest) = _run(client, max_new_tokens=4, do_sample=False)
    assert isinstance(text, str)


def test_truncation_warning(client) -> None:
    _, (_, stats, *_) = _run(client, prompt="word " * 5000, max_new_tokens=4)
    assert "too long" in stats


@pytest.mark.parametrize(
    "prompt,kw,message",
    [
        ("", {}, "enter a prompt"),
        ("Hi", {"max_new_tokens": 0}, "between 1 and"),
        ("Hi", {"max_new_tokens": 5000}, "between 1 and"),
        ("Hi", {"temperature": 0}, "greedy"),
        (
            "Hi",
            {"max_new_tokens": 4096},
            r"reads at most 4096 tokens, prompt included: ask for fewer than 4096 new tokens",
        ),
    ],
)
def test_bad_input(client, prompt, kw, message) -> None:
    with pytest.raises(AppError, match=message):
        _run(client, prompt=prompt, **kw)


BASE = "Llama base (test)"
CHAT_OPTIONS = dict(
    max_new_tokens=8, temperature=0.7, top_p=0.95, top_k=50, repetition_penalty=1.0, do_sample=False, seed=0, stop=""
)


def _chat(client, message, history, model=CHAT, system_prompt="", **kw):
    args = {**CHAT_OPTIONS, **kw}
    job = client.submit(message, history, model, system_prompt, *args.values(), api_name="/chat")
    return job, job.result()


def test_chat_history_round_trips_through_the_template(client) -> None:
    history = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "good morning"}]
    job, (messages, preview, stats, code) = _chat(client, "how are you", history, system_prompt="be brief")
    assert len(job.outputs()) > 1  # streamed
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert [m["content"] for m in messages[:3]] == ["hello there", "good morning", "how are you"]
    # The preview is the model's own ChatML template applied to system + history + new message.
    expected = (
        "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhello there<|im_end|>\n"
        "<|im_start|>assistant\ngood morning<|im_end|>\n<|im_start|>user\nhow are you<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert preview.rstrip("\n") == expected.rstrip("\n")  # the code box drops the final newline
    assert "tokens/s" in stats
    assert "messages = " in code and "pipe(" in code

    # The next turn carries the reply back in: history grows by two and greedy replies are reproducible.
    _, (again, *_rest) = _chat(client, "how are you", history, system_prompt="be brief")
    assert again[-1]["content"] == messages[-1]["content"]
    _, (longer, preview2, *_r) = _chat(client, "and then", messages)
    assert len(longer) == 6 and preview2.count("<|im_start|>user") == 3


def test_chat_refuses_models_without_template(client) -> None:
    with pytest.raises(AppError, match="no chat template"):
        _chat(client, "hello", [], model=BASE)


@pytest.mark.parametrize(
    "message,history,text",
    [
        ("", [], "type a message"),
        ("hi", [{"role": "robot", "content": "x"}], "malformed"),
        ("hi", [{"content": "no role"}], "malformed"),
        ("hi", [["user", "tuple style"]], "malformed"),
    ],
)
def test_chat_bad_input(client, message, history, text) -> None:
    with pytest.raises(AppError, match=text):
        _chat(client, message, history)


@pytest.mark.parametrize("do_sample", [False, True])
def test_completion_snippet_reproduces_the_app(client, test_models, do_sample) -> None:
    _, (text, _, code, _) = _run(client, prompt="the cat", max_new_tokens=12, do_sample=do_sample, seed=7)
    printed = ast.literal_eval(run_snippet(code, cwd=test_models).strip().splitlines()[-1])
    assert printed[0]["generated_text"] == "the cat" + text


def test_completion_snippet_with_stop_strings(client, test_models) -> None:
    _, (full, *_) = _run(client, prompt="the cat", max_new_tokens=24, do_sample=False)
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    if "\n" in stop or "\\n" in stop or not stop.strip():
        pytest.skip(f"the random model's text has no plain substring to stop on: {full!r}")
    _, (text, _, code, _) = _run(client, prompt="the cat", max_new_tokens=24, do_sample=False, stop=stop)
    assert "stop_sequence=" in code
    printed = ast.literal_eval(run_snippet(code, cwd=test_models).strip().splitlines()[-1])[0]["generated_text"]
    # The pipeline keeps the stop string at the end of its text; the app shows the text before it.
    assert printed.startswith("the cat" + text) and stop in printed[len("the cat" + text) :]


def test_chat_snippet_reproduces_the_app(client, test_models) -> None:
    history = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "good morning"}]
    _, (messages, _, _, code) = _chat(client, "how are you", history, system_prompt="be brief")
    printed = run_snippet(code, cwd=test_models)
    assert printed.endswith("\n") and printed[:-1] == messages[-1]["content"]  # print() adds one newline


@pytest.mark.parametrize("do_sample", [False, True])
def test_alternatives_table_explains_each_token(client, do_sample) -> None:
    _, (text, _, _, table) = _run(client, prompt="the cat", max_new_tokens=6, do_sample=do_sample, seed=5, top_k=3)
    rows = table["data"]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)) and 1 <= len(rows) <= 6
    # The chosen tokens spell the generated text, and each chosen token is among the alternatives.
    assert "".join(ast.literal_eval(r[1]) for r in rows).strip() == text.strip()
    for _step, token, prob, shown in rows:
        assert 0 < float(prob) <= 1
        listed = [float(part.rsplit(" ", 1)[1]) for part in shown.split(" · ")]
        assert listed == sorted(listed, reverse=True)
        if not do_sample:  # greedy picks the most likely token
            assert float(prob) == pytest.approx(listed[0], abs=1e-3)
        else:  # sampling with top_k=3 draws from the model's three most likely tokens
            assert token in " · ".join(shown.split(" · ")[:3])


def expected_cut(text: str, stops: list[str]) -> str:
    """What streaming with these stop strings keeps: cut where the first completed stop starts."""
    for end in range(1, len(text) + 1):
        found = [text.index(stop) for stop in stops if stop in text[:end]]
        if found:
            return text[: min(found)]
    return text


def test_several_stop_strings_cut_at_the_first_one(client) -> None:
    _, (full, *_) = _run(client, max_new_tokens=48, do_sample=False)
    assert len(full) > 20, full
    picks = [full[i : i + 3] for i in (len(full) // 2, len(full) * 3 // 4)]
    if any("\n" in pick or "\\n" in pick or not pick.strip() for pick in picks):
        pytest.skip(f"the random model's text has no plain substrings to stop on: {full!r}")
    # Greedy: the same text as above up to the stop; generate() itself ends long before 200 tokens.
    _, (cut, stats, *_) = _run(client, max_new_tokens=200, do_sample=False, stop="\n".join(picks))
    assert cut == expected_cut(full, picks) and len(cut) < len(full)
    assert int(re.search(r"out (\d+)", stats).group(1)) < 200


@pytest.fixture(scope="module")
def placement_app(test_catalog, test_models, tmp_path_factory):  # noqa: ANN001, ANN201
    """An app whose text generation catalog holds the same model plainly loaded, split by accelerate
    with a tiny max_memory (layers offloaded to disk), and a variant whose attention cannot fit."""
    from conftest import catalog_variant, launch_app
    from hostile_models import copy_model, long_context_eager

    root = tmp_path_factory.mktemp("placement")
    entries = [
        {"id": str(test_models / "llama-chat"), "label": "Plain", "default": True},
        {
            "id": str(copy_model(test_models, "llama-chat", root / "llama-chat")),
            "label": "Offloaded",
            "device_map": "auto",
            "max_memory": {"cpu": "290KB"},
            "offload_folder": str(root / "offload"),
        },
        {"id": str(long_context_eager(test_models, root / "long-context")), "label": "Long context"},
    ]
    catalog = catalog_variant(test_catalog, root / "models.yaml", models={"text_generation": entries})
    running = launch_app(catalog, root, "--tabs", "text_generation")
    yield running.client()
    running.stop()


def test_device_map_with_tiny_max_memory_gives_the_same_tokens(placement_app) -> None:
    options = dict(
        max_new_tokens=12,
        temperature=0.7,
        top_p=0.95,
        top_k=50,
        repetition_penalty=1.0,
        do_sample=False,
        seed=0,
        stop="",
    )
    plain, plain_stats, *_ = placement_app.predict("The weather today", model="Plain", **options, api_name="/generate")
    split, split_stats, *_ = placement_app.predict(
        "The weather today", model="Offloaded", **options, api_name="/generate"
    )
    assert split == plain and plain
    assert "on cpu" in plain_stats and "device map" not in plain_stats
    placements = re.search(r"device map: ([^(]+) \(accelerate\)", split_stats).group(1)
    assert "disk" in placements and "cpu" in placements, split_stats
    # The snippet loads the model split the same way (device map, max_memory, offload folder).
    _, _, code, _ = placement_app.predict("The weather today", model="Offloaded", **options, api_name="/generate")
    assert pipeline_kwargs(code) == loaded_as(placement_app, "Offloaded")
    assert pipeline_kwargs(code)["model_kwargs"]["max_memory"] == {"cpu": "290KB"}


def test_out_of_memory_in_generation_is_answered_with_a_remedy(placement_app) -> None:
    options = dict(
        max_new_tokens=4,
        temperature=0.7,
        top_p=0.95,
        top_k=50,
        repetition_penalty=1.0,
        do_sample=False,
        seed=0,
        stop="",
    )
    with pytest.raises(
        AppError, match=r"Out of memory while running the model\. Try shorter input or fewer new tokens"
    ):
        placement_app.predict("hello " * 300_000, model="Long context", **options, api_name="/generate")
    text, stats, *_ = placement_app.predict("hello", model="Long context", **options, api_name="/generate")
    assert isinstance(text, str) and "tokens/s" in stats


def test_endpoints_need_only_their_text_and_default_to_the_ui(client) -> None:
    from tabs.text_generation.ui import DEFAULTS

    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for name, text in (("/generate", "prompt"), ("/chat", "message")):
        params = {p["parameter_name"]: p for p in api[name]["parameters"]}
        assert [n for n, p in params.items() if not p["parameter_has_default"]] == [text], name
        assert {n: params[n]["parameter_default"] for n in DEFAULTS} == DEFAULTS, name
        assert params.get("system_prompt", {"parameter_default": ""})["parameter_default"] == ""
    text, stats, code, table = client.predict("Hello", api_name="/generate")
    assert isinstance(text, str) and 0 < int(re.search(r"out (\d+)", stats).group(1)) <= DEFAULTS["max_new_tokens"]
    messages, preview, chat_stats, _ = client.predict("hello", api_name="/chat")
    assert [m["role"] for m in messages] == ["user", "assistant"] and "<|im_start|>user\nhello" in preview
    assert "tokens/s" in chat_stats


def pipeline_kwargs(code: str) -> dict:
    """The keyword arguments of the snippet's `pipeline(...)` call."""
    call = next(
        node
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "pipeline"
    )
    assert [ast.literal_eval(arg) for arg in call.args] == ["text-generation"]
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def loaded_as(client, label: str) -> dict:  # noqa: ANN001
    """What /loaded_models says about a loaded model: the pipeline() kwargs a snippet must show."""
    loaded = next(m for m in client.predict(api_name="/loaded_models") if m["label"] == label)
    defaults = {"revision": None, "trust_remote_code": False}  # transformers' own: left out of snippets
    kwargs = {k: v for k, v in loaded["load_kwargs"].items() if k not in defaults or v != defaults[k]}
    return {"model": loaded["id"], **kwargs}


def test_snippets_load_the_model_as_the_app_did(client) -> None:
    _, _, code, _ = client.predict("the cat", CHAT, max_new_tokens=2, do_sample=False, api_name="/generate")
    assert pipeline_kwargs(code) == loaded_as(client, CHAT)
    _, _, _, chat_code = client.predict("hello", [], CHAT, max_new_tokens=2, api_name="/chat")
    assert pipeline_kwargs(chat_code) == loaded_as(client, CHAT)


def test_stats_and_table_follow_the_callers_language(app) -> None:  # noqa: ANN001
    from gradio_client import Client

    korean = Client(app.url, headers={"Accept-Language": "ko-KR,ko;q=0.9"}, verbose=False)
    text, stats, _, table = korean.predict("the cat", CHAT, max_new_tokens=4, do_sample=False, api_name="/generate")
    assert "첫 토큰까지" in stats and "모델:" in stats and "tokens/s" not in stats
    assert table["headers"] == ["단계", "고른 토큰", "그 확률", "상위 후보 (토큰 확률)"]
    with pytest.raises(AppError, match="프롬프트를 입력해 주세요"):
        korean.predict("", api_name="/generate")
