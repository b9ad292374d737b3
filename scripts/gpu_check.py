"""Exercise the app on a CUDA GPU in a few minutes and print one JSON report.

    make gpu-check                       (or: .venv/bin/python scripts/gpu_check.py [--only NAME,...])

Needs a CUDA machine and this repository, nothing else: the models are the random-weight test models,
written as the tests write them (scripts/make_test_models.py), and no Hub is reached. Checks: the
`auto` device picks the GPU; float16 and bfloat16 loads; `device_map: auto` with a `max_memory` that
spills layers to the CPU, and to disk; 8-bit and 4-bit loads (bitsandbytes, and torchao); then, in
the app as served, batched generation with 32 concurrent clients at the GPU's default batch size,
speech batching with 16 concurrent clients, image classification throughput with 16 clients against a
bare pipeline loop; and GPU memory back at its baseline after unloading.

The report is one JSON object on stdout: {"cuda": true, "ok": ..., "device": ..., "checks": [{"name",
"ok", "seconds", "details" or "error"}, ...]}. The exit status is 1 when any check failed. Without
CUDA the report says so ({"cuda": false, "ok": true, "message": ...}), nothing runs, and it exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the app's packages and bench's server helpers
    sys.path.insert(0, str(ROOT))

from bench.common import OFFLINE_ENV, Server, app_command  # noqa: E402

TEST_MODELS = ("llama-chat", "llama-hd64", "whisper", "vit")
LAYERED_MODEL = "llama-layered"
GENERATION_CLIENTS, SPEECH_CLIENTS, IMAGE_CLIENTS = 32, 16, 16
GENERATION_TOKENS = 48  # long enough for 32 requests to overlap in the batch
IMAGE_REQUESTS = 64  # per run: the app's 16 clients together, and the bare loop
SPEECH_SECONDS = 20
BUDGET_S = 300  # checks not started by then are reported as not run
HANG_LIMIT_S = 540  # a check still running then (a client that never got an answer) ends the run
DEVICE = "cuda"  # where the bare image loop runs
MEMORY_TOLERANCE_MB = 8  # allocated GPU memory after unloading every model, over its baseline
LABELS = {
    "generation": "Llama chat (gpu check)",
    "int4": "Llama hd64 (gpu check)",
    "speech": "Whisper (gpu check)",
    "image": "ViT (gpu check)",
}


class CheckFailed(Exception):
    """A check ran and found the app doing the wrong thing (its message goes into the report)."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], dict[str, Any]]  # the details to report; raises on failure


def run_checks(
    checks: Sequence[Check], budget_s: float = BUDGET_S, results: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Each check once, in order, timed, appended to `results` as it ends; a failure is recorded with its
    message and the rest still run, until `budget_s` is spent: the checks left are failed as not run."""
    results = [] if results is None else results
    started = time.perf_counter()
    for check in checks:
        began = time.perf_counter()
        if began - started >= budget_s:
            results.append({"name": check.name, "ok": False, "error": f"not run: the {budget_s:g} s budget was spent"})
            continue
        try:
            details = check.run()
            outcome: dict[str, Any] = {"ok": True, "details": details}
        except CheckFailed as failure:
            outcome = {"ok": False, "error": str(failure)}
        except Exception as exc:  # an unexpected error is a failed check too, with where it came from
            outcome = {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-2000:],
            }
        results.append({"name": check.name, **outcome, "seconds": round(time.perf_counter() - began, 2)})
        print(f"[gpu-check] {check.name}: {'ok' if outcome['ok'] else 'FAILED'}", file=sys.stderr, flush=True)
    return results


def report(results: list[dict[str, Any]], device: str, seconds: float) -> dict[str, Any]:
    return {
        "cuda": True,
        "ok": all(result["ok"] for result in results),
        "device": device,
        "seconds": round(seconds, 1),
        "checks": results,
    }


def no_cuda_report() -> dict[str, Any]:
    return {"cuda": False, "ok": True, "message": "CUDA is not available on this machine: no GPU check was run."}


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# ---- the models and their catalog -----------------------------------------------------------------


def write_models(out: Path) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_test_models.py"), str(out), "--only", ",".join(TEST_MODELS)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return out


def write_layered_model(models: Path) -> Path:
    """The test Llama with 12 layers, each larger than its embedding: a `max_memory` budget then splits
    it between devices layer by layer (the test models' 2 layers and large embedding go all or nothing)."""
    import torch
    from transformers import LlamaForCausalLM

    from scripts.make_test_models import chat_tokenizer, generation_config, llama_config, save

    torch.manual_seed(0)
    tokenizer = chat_tokenizer(with_chat_template=True, max_length=1024)
    config = llama_config("tiny", tokenizer)
    config.hidden_size, config.head_dim, config.intermediate_size, config.num_hidden_layers = 128, 64, 1024, 12
    model = LlamaForCausalLM(config)
    model.generation_config = generation_config(tokenizer)
    return save(models / LAYERED_MODEL, model, tokenizer)


def write_catalog(models: Path, out: Path) -> Path:
    import yaml

    def entry(folder: str, label: str, task: str) -> dict[str, Any]:
        return {"id": str(models / folder), "label": label, "task": task, "default": True}

    catalog = {
        "defaults": {"device": "auto", "max_loaded_models": 4},
        "tabs": {
            "text_generation": {"models": [entry("llama-chat", LABELS["generation"], "text-generation")]},
            "speech_to_text": {"models": [entry("whisper", LABELS["speech"], "automatic-speech-recognition")]},
            "image_classification": {"models": [entry("vit", LABELS["image"], "image-classification")]},
        },
    }
    out.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return out


def single_entry_manager(models: Path, folder: str, **fields: Any) -> Any:
    """A model manager over one text-generation entry (device auto) with `fields` set."""
    from playground.config.catalog import parse_catalog
    from playground.loading.model_manager import ModelManager

    entry = {"id": str(models / folder), "label": folder, "task": "text-generation", "default": True, **fields}
    return ModelManager(
        parse_catalog({"defaults": {"device": "auto"}, "tabs": {"text_generation": {"models": [entry]}}})
    )


def answers(loaded: Any) -> str:
    out = loaded.model("the cat", max_new_tokens=4, min_new_tokens=4, do_sample=False)
    text = out[0]["generated_text"]
    expect(isinstance(text, str) and len(text) > len("the cat"), f"no generated text: {out!r}")
    return text


def parameter_dtypes(loaded: Any) -> list[str]:
    return sorted({str(p.dtype).removeprefix("torch.") for p in loaded.model.model.parameters()})


def weight_types(loaded: Any) -> list[str]:
    """The classes the linear layers' weights have (a quantized weight is a tensor subclass or bnb Params)."""
    import torch

    return sorted(
        {
            type(module.weight).__name__
            for module in loaded.model.model.modules()
            if isinstance(getattr(module, "weight", None), torch.Tensor) and module.weight.dim() == 2
        }
    )


def unload(manager: Any) -> None:
    manager.unload("all")


# ---- in-process checks ------------------------------------------------------------------------


def check_device_auto(models: Path) -> dict[str, Any]:
    manager = single_entry_manager(models, "llama-chat")
    try:
        loaded = manager.get("text_generation")
        expect(str(loaded.device).startswith("cuda"), f"device auto loaded on {loaded.device}, not the GPU")
        where = sorted({str(p.device) for p in loaded.model.model.parameters()})
        expect(all(w.startswith("cuda") for w in where), f"parameters on {where}")
        return {
            "device": loaded.device,
            "dtype": loaded.dtype,
            "reason": loaded.dtype_reason(),
            "text": answers(loaded),
        }
    finally:
        unload(manager)


def check_dtype(models: Path, dtype: str) -> dict[str, Any]:
    import torch

    if dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        return {"skipped": "this GPU has no bfloat16"}
    manager = single_entry_manager(models, "llama-chat", dtype=dtype)
    try:
        loaded = manager.get("text_generation")
        found = parameter_dtypes(loaded)
        expect(found == [dtype], f"dtype {dtype} asked, parameters in {found}")
        return {"device": loaded.device, "parameters": found, "text": answers(loaded)}
    finally:
        unload(manager)


def model_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("*.safetensors"))


def check_spill(models: Path, work: Path, to_disk: bool) -> dict[str, Any]:
    """device_map auto with a GPU budget of a third of the weights (and, for disk, a CPU budget of a third)."""
    size = model_bytes(models / LAYERED_MODEL)
    budget = {0: size // 3, "cpu": size // 3 if to_disk else 4 * size}
    manager = single_entry_manager(
        models, LAYERED_MODEL, device_map="auto", max_memory=budget, offload_folder=str(work / "offload")
    )
    try:
        loaded = manager.get("text_generation")
        placed = loaded.device_map or {}
        where = {str(place).removeprefix("cuda:") for place in placed.values()}
        wanted = {"0", "cpu", "disk"} if to_disk else {"0", "cpu"}
        expect(wanted <= where, f"wanted layers on {sorted(wanted)}, placed: {placed}")
        return {"max_memory": {str(k): v for k, v in budget.items()}, "placed": sorted(where), "text": answers(loaded)}
    finally:
        unload(manager)


def check_quantized(models: Path, method: str) -> dict[str, Any]:
    import torch

    folder = "llama-hd64"  # 128 input features: a multiple of the int4 group size
    manager = single_entry_manager(models, folder, quantization=method)
    try:
        before = torch.cuda.memory_allocated()
        loaded = manager.get("text_generation")
        types = weight_types(loaded)
        expect(types != ["Parameter"], f"{method}: the linear weights are plain ({types})")
        return {
            "device": loaded.device,
            "dtype": loaded.dtype,
            "weight_types": types,
            "gpu_mb": round((torch.cuda.memory_allocated() - before) / 2**20, 2),
            "text": answers(loaded),
        }
    finally:
        unload(manager)


def check_memory_after_unload(models: Path) -> dict[str, Any]:
    import torch

    from playground.loading.devices import release_memory

    release_memory()
    baseline = torch.cuda.memory_allocated()
    manager = single_entry_manager(models, "llama-chat")
    loaded = manager.get("text_generation")
    answers(loaded)
    with_model = torch.cuda.memory_allocated()
    del loaded
    unload(manager)
    release_memory()
    after = torch.cuda.memory_allocated()
    growth_mb = (after - baseline) / 2**20
    expect(growth_mb <= MEMORY_TOLERANCE_MB, f"{growth_mb:.1f} MB still allocated after unloading")
    return {
        "baseline_mb": round(baseline / 2**20, 2),
        "loaded_mb": round(with_model / 2**20, 2),
        "after_unload_mb": round(after / 2**20, 2),
        "reserved_after_unload_mb": round(torch.cuda.memory_reserved() / 2**20, 2),
    }


# ---- checks through the app as served -----------------------------------------------------------


def concurrently(count: int, call: Callable[[int], Any]) -> tuple[list[Any], list[str], float]:
    """`call(i)` for i in range(count), all at once on threads: (answers, errors, wall seconds)."""
    answers_: list[Any] = [None] * count
    errors: list[str] = []
    start = threading.Barrier(count)

    def one(index: int) -> None:
        start.wait()
        try:
            answers_[index] = call(index)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers_, errors, time.perf_counter() - began


def clients(app: Server, count: int) -> list[Any]:
    return [app.client() for _ in range(count)]


def peak_batch(app: Server, model: str) -> int:
    from playground.engines.generation import TEXTS

    table = app.client().predict(api_name="/generation_activity")
    model_column = table["headers"].index(TEXTS.get("activity_model"))
    peak_column = table["headers"].index(TEXTS.get("activity_peak"))
    return max((int(row[peak_column] or 0) for row in table["data"] if model in str(row[model_column])), default=0)


def check_generation_clients(app: Server) -> dict[str, Any]:
    from bench.users import generate_inputs, tokens_reported
    from playground.loading.devices import GENERATION_BATCH

    connections = clients(app, GENERATION_CLIENTS)
    connections[0].predict(*generate_inputs(4), api_name="/generate")  # loads the model
    answers_, errors, wall = concurrently(
        GENERATION_CLIENTS,
        lambda i: tokens_reported(connections[i].predict(*generate_inputs(GENERATION_TOKENS), api_name="/generate")[1]),
    )
    expect(not errors, f"{len(errors)} of {GENERATION_CLIENTS} /generate calls failed: {errors[:3]}")
    expect(all(tokens == GENERATION_TOKENS for tokens in answers_), f"tokens per answer: {answers_}")
    peak = peak_batch(app, LABELS["generation"])
    expect(peak > 1, f"{GENERATION_CLIENTS} concurrent clients were never batched (largest batch {peak})")
    return {
        "clients": GENERATION_CLIENTS,
        "default_batch_size": GENERATION_BATCH.gpu,
        "largest_batch": peak,
        "wall_s": round(wall, 2),
        "tokens_per_s": round(sum(answers_) / wall, 1),
    }


def write_clip(path: Path, seconds: float) -> Path:
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * 16000)) / 16000
    sf.write(path, 0.1 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size), 16000)
    return path


def check_speech_clients(app: Server, work: Path) -> dict[str, Any]:
    from gradio_client import handle_file

    from bench.users import transcribe_inputs

    clip = str(write_clip(work / "clip.wav", SPEECH_SECONDS))
    connections = clients(app, SPEECH_CLIENTS)
    connections[0].predict(*transcribe_inputs(handle_file(clip)), api_name="/transcribe")  # loads the model
    answers_, errors, wall = concurrently(
        SPEECH_CLIENTS,
        lambda i: connections[i].predict(*transcribe_inputs(handle_file(clip)), api_name="/transcribe")[0],
    )
    expect(not errors, f"{len(errors)} of {SPEECH_CLIENTS} /transcribe calls failed: {errors[:3]}")
    peak = peak_batch(app, LABELS["speech"])
    expect(peak > 1, f"{SPEECH_CLIENTS} concurrent transcriptions were never batched (largest batch {peak})")
    return {
        "clients": SPEECH_CLIENTS,
        "largest_batch": peak,
        "same_text": len({str(a) for a in answers_}) == 1,
        "wall_s": round(wall, 2),
        "clips_per_s": round(SPEECH_CLIENTS / wall, 2),
    }


def write_image(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (224, 224), (200, 120, 40)).save(path)
    return path


def bare_images_per_s(models: Path, image: Path, count: int) -> float:
    """The image pipeline called on the GPU one image after another, in this process."""
    from PIL import Image
    from transformers import pipeline

    pipe = pipeline("image-classification", model=str(models / "vit"), device=DEVICE)
    picture = Image.open(image).convert("RGB")
    pipe(picture)  # warm-up
    began = time.perf_counter()
    for _ in range(count):
        pipe(picture, top_k=5)
    elapsed = time.perf_counter() - began
    del pipe
    return count / elapsed


def check_image_clients(app: Server, models: Path, work: Path) -> dict[str, Any]:
    from gradio_client import handle_file

    image = write_image(work / "image.png")
    bare = bare_images_per_s(models, image, IMAGE_REQUESTS)
    connections = clients(app, IMAGE_CLIENTS)
    connections[0].predict(handle_file(str(image)), None, 5, api_name="/classify_image")  # loads the model
    per_client = IMAGE_REQUESTS // IMAGE_CLIENTS

    def client_loop(index: int) -> int:
        for _ in range(per_client):
            connections[index].predict(handle_file(str(image)), None, 5, api_name="/classify_image")
        return per_client

    done, errors, wall = concurrently(IMAGE_CLIENTS, client_loop)
    expect(not errors, f"{len(errors)} of {IMAGE_CLIENTS} /classify_image clients failed: {errors[:3]}")
    app_rate = sum(done) / wall
    return {
        "clients": IMAGE_CLIENTS,
        "images": sum(done),
        "app_images_per_s": round(app_rate, 2),
        "bare_loop_images_per_s": round(bare, 2),
        "ratio_to_bare_loop": round(app_rate / bare, 2),
    }


def app_gpu_memory_mb(pid: int) -> float | None:
    """The GPU memory nvidia-smi reports for process `pid` (None where it cannot say)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) == 2 and fields[0] == str(pid):
            return float(fields[1])
    return None


def check_app_unload(app: Server, loaded_mb: float | None) -> dict[str, Any]:
    client = app.client()
    client.predict("all", api_name="/unload_model")
    left = client.predict(api_name="/loaded_models")
    expect(not left, f"models still loaded after unloading all: {left}")
    return {"gpu_mb_with_models": loaded_mb, "gpu_mb_after_unload": app_gpu_memory_mb(app.pid)}


# ---- the run ---------------------------------------------------------------------------------


def checks(models: Path, work: Path, app_holder: dict[str, Any]) -> list[Check]:
    def app() -> Server:
        if "server" not in app_holder:
            catalog = write_catalog(models, work / "gpu-check.yaml")
            tabs = "text_generation,speech_to_text,image_classification,models"
            app_holder["server"] = Server(app_command(catalog, "--tabs", tabs), work, "gpu-check-app")
        return app_holder["server"]

    def app_unload() -> dict[str, Any]:
        server = app()
        return check_app_unload(server, app_gpu_memory_mb(server.pid))

    return [
        Check("device_auto", lambda: check_device_auto(models)),
        Check("float16_load", lambda: check_dtype(models, "float16")),
        Check("bfloat16_load", lambda: check_dtype(models, "bfloat16")),
        Check("device_map_cpu_spill", lambda: check_spill(models, work, to_disk=False)),
        Check("device_map_disk_spill", lambda: check_spill(models, work, to_disk=True)),
        Check("bitsandbytes_8bit", lambda: check_quantized(models, "bnb-int8")),
        Check("bitsandbytes_4bit_nf4", lambda: check_quantized(models, "bnb-nf4")),
        Check("torchao_int8", lambda: check_quantized(models, "int8")),
        Check("torchao_int4", lambda: check_quantized(models, "int4")),
        Check("memory_after_unload", lambda: check_memory_after_unload(models)),
        Check("generation_32_clients", lambda: check_generation_clients(app())),
        Check("speech_16_clients", lambda: check_speech_clients(app(), work)),
        Check("image_16_clients", lambda: check_image_clients(app(), models, work)),
        Check("app_memory_after_unload", app_unload),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated check names to run (default: all)")
    args = parser.parse_args(argv)
    names = [check.name for check in checks(Path(), Path(), {})]
    wanted = {name.strip() for name in (args.only or "").split(",") if name.strip()}
    if wanted - set(names):
        parser.error(f"--only: unknown check(s) {', '.join(sorted(wanted - set(names)))} (checks: {', '.join(names)})")
    import torch

    if not torch.cuda.is_available():
        print(json.dumps(no_cuda_report()))
        return 0
    os.environ.update(OFFLINE_ENV)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        work = Path(folder)
        models = work / "models"
        app_holder: dict[str, Any] = {}
        selected = [check for check in checks(models, work, app_holder) if not wanted or check.name in wanted]
        write_models(models)
        write_layered_model(models)
        results: list[dict[str, Any]] = []
        device = torch.cuda.get_device_name(0)

        def hung() -> None:
            stuck = next((check.name for check in selected[len(results) :]), "the report")
            results.append({"name": stuck, "ok": False, "error": f"still running after {HANG_LIMIT_S} s"})
            print(json.dumps(report(results, device, time.perf_counter() - began), indent=2), flush=True)
            if "server" in app_holder:
                app_holder["server"].stop()
            os._exit(1)

        watchdog = threading.Timer(HANG_LIMIT_S, hung)
        watchdog.daemon = True
        watchdog.start()
        try:
            run_checks(selected, results=results)
        finally:
            watchdog.cancel()
            if "server" in app_holder:
                app_holder["server"].stop()
    result = report(results, device, time.perf_counter() - began)
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
