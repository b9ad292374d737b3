"""Broken and untrusted model folders for the fault and security tests, made from the test models.

Each builder copies a working random-weight model and breaks one thing, the way real downloads and
repositories break: truncated or missing weights, pickle-only weights, custom code in the repo, a
processor that does not fit the model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# The custom code a "remote code" repository ships: importing it leaves a marker file, so a test can
# tell whether the app ever executed it.
CUSTOM_CODE = """
from pathlib import Path

from transformers import BertConfig, BertForMaskedLM

Path({marker!r}).write_text("custom code ran")


class CustomBertConfig(BertConfig):
    model_type = "playground-custom-bert"


class CustomBertForMaskedLM(BertForMaskedLM):
    config_class = CustomBertConfig
"""


def copy_model(test_models: Path, name: str, out: Path) -> Path:
    shutil.copytree(test_models / name, out)
    return out


def corrupt_weights(test_models: Path, out: Path) -> Path:
    folder = copy_model(test_models, "bert-mlm", out)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # an interrupted download
    return folder


def missing_weights(test_models: Path, out: Path) -> Path:
    folder = copy_model(test_models, "bert-mlm", out)
    (folder / "model.safetensors").unlink()
    return folder


def pickle_only_weights(test_models: Path, out: Path) -> Path:
    """The same model with its weights as pytorch_model.bin only (pickle: can run code when loaded)."""
    import torch
    from safetensors.torch import load_file

    folder = copy_model(test_models, "bert-mlm", out)
    weights = folder / "model.safetensors"
    torch.save(load_file(weights), folder / "pytorch_model.bin")
    weights.unlink()
    return folder


def remote_code(test_models: Path, out: Path, marker: Path) -> Path:
    """A model whose config asks for code shipped in the repository (auto_map), which leaves `marker`."""
    folder = copy_model(test_models, "bert-mlm", out)
    (folder / "custom_bert.py").write_text(CUSTOM_CODE.format(marker=str(marker)))
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["model_type"] = "playground-custom-bert"
    config["auto_map"] = {
        "AutoConfig": "custom_bert.CustomBertConfig",
        "AutoModelForMaskedLM": "custom_bert.CustomBertForMaskedLM",
    }
    config_path.write_text(json.dumps(config, indent=2))
    return folder


def mismatched_processor(test_models: Path, out: Path) -> Path:
    """A ViT whose image processor resizes to another size than the model was built for: it loads,
    then every forward pass raises."""
    folder = copy_model(test_models, "vit", out)
    processor_path = folder / "preprocessor_config.json"
    processor = json.loads(processor_path.read_text())
    size = processor["size"]
    processor["size"] = {key: value * 2 for key, value in size.items()} if isinstance(size, dict) else size * 2
    processor_path.write_text(json.dumps(processor, indent=2))
    return folder


def long_context_eager(test_models: Path, out: Path) -> Path:
    """The base Llama with a million-token context and eager attention: a long enough prompt makes
    its attention mask larger than any machine's memory, a real out-of-memory error in generate()."""
    folder = copy_model(test_models, "llama-base", out)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["max_position_embeddings"] = 1_000_000
    config["attn_implementation"] = "eager"
    config_path.write_text(json.dumps(config, indent=2))
    return folder
