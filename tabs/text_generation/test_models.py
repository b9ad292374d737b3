"""The text-generation tab's random-weight test models: Llama with and without a chat template (and with
64-dimensional heads), and the other architectures the shipped catalogs list (GPT-2, Qwen2 chat).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    GenerationConfig,
    GPT2Config,
    GPT2LMHeadModel,
    GPT2Tokenizer,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen2Tokenizer,
)

from scripts.make_test_models import (
    CHAT_TEMPLATE,
    Builder,
    CatalogEntry,
    Size,
    chat_tokenizer,
    generation_config,
    gpt2_style_bpe,
    llama_config,
    pick,
    real_only,
    save,
)


def build_llama_chat(out_dir: Path, size: Size) -> Path:
    return build_llama(out_dir, size, "llama-chat", with_chat_template=True)


def build_llama_base(out_dir: Path, size: Size) -> Path:
    # Only needed for behaviour (no chat template; "not a masked LM"), so it stays tiny.
    return build_llama(out_dir, "tiny", "llama-base", with_chat_template=False)


def build_llama_hd64(out_dir: Path, size: Size) -> Path:
    # The remote-engine tests' served model: vLLM's CPU attention refuses head_dim 16 (the tiny
    # Llama's) at the first request and runs 64, so 2 heads of 64 (1 KV head). Always tiny.
    tokenizer = chat_tokenizer(with_chat_template=True, max_length=1024)
    config = llama_config("tiny", tokenizer)
    config.hidden_size, config.head_dim, config.intermediate_size = 128, 64, 256
    model = LlamaForCausalLM(config)
    # Sampling by default, as chat models ship: servers that only set a temperature (transformers
    # serve) then really sample, and temperature 0 still means greedy.
    model.generation_config = generation_config(tokenizer)
    model.generation_config.do_sample = True
    return save(out_dir / "llama-hd64", model, tokenizer)


def build_gpt2(out_dir: Path, size: Size) -> Path:
    vocab, merges = gpt2_style_bpe(["<|endoftext|>"])
    tokenizer = GPT2Tokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=1024,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        do_sample=False,
        max_new_tokens=16,
    )
    return save(out_dir / "gpt2", model, tokenizer)


def build_qwen2_chat(out_dir: Path, size: Size) -> Path:
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab, merges = gpt2_style_bpe(specials)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=4096,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = Qwen2ForCausalLM(config)
    eos = sorted({tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|endoftext|>")})
    model.generation_config = GenerationConfig(
        eos_token_id=eos, pad_token_id=tokenizer.pad_token_id, do_sample=False, max_new_tokens=16
    )
    return save(out_dir / "qwen2-chat", model, tokenizer)


def build_llama(out_dir: Path, size: Size, name: str, with_chat_template: bool) -> Path:
    # Room for long generations (the Stop and queue tests) and for a prompt that overflows it.
    max_length = pick(size, 4096, 32768)
    # Real size = Qwen2.5-0.5B-Instruct's shape (the shipped default): 494M parameters, a third of
    # them in the 151,936-entry embedding that is also the output head (a big part of each step).
    tokenizer = chat_tokenizer(with_chat_template, max_length, target_size=real_only(size, 151936))
    model = LlamaForCausalLM(llama_config(size, tokenizer))
    model.generation_config = generation_config(tokenizer)
    return save(out_dir / name, model, tokenizer)


BUILDERS: dict[str, Builder] = {
    "llama-chat": build_llama_chat,
    "llama-base": build_llama_base,
    "llama-hd64": build_llama_hd64,
    "gpt2": build_gpt2,
    "qwen2-chat": build_qwen2_chat,
}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "llama-chat",
        "Llama chat (test)",
        "text-generation",
        "Random-weight Llama with a ChatML chat template.",
        default=True,
    ),
    CatalogEntry("llama-base", "Llama base (test)", "text-generation", "Random-weight Llama without a chat template."),
)
