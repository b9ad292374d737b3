"""OpenAI-compatible engines launched for measurements and tests: `transformers serve` (in the
project's venv) and vLLM's CPU build (in .cache/vllm-venv, `make test-vllm` installs it), each pinned
to one model folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.common import OFFLINE_ENV, ROOT, free_port, wait_for_page

VLLM_PYTHON = ROOT / ".cache" / "vllm-venv" / "bin" / "python"
CONTEXT_TOKENS = 1024  # the llama-hd64 test model's max_position_embeddings


@dataclass
class Engine:
    """A launched engine: `url` is its /v1 base, `model` the name it serves (what catalog ids use)."""

    name: str
    url: str
    model: str
    process: subprocess.Popen
    log_path: Path
    api_key: str | None = None
    # What the engine does with optional fields (the tests expect exactly this).
    gives_logprobs: bool = False
    accepts_top_k: bool = False
    checks_context: bool = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the engine and its children (vLLM's engine core and workers), as a crash would."""
        self._signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        # Children that outlived the server (its own session holds them): never leave them running.
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        try:
            os.killpg(self.process.pid, number)  # started in a session of its own: the group is the engine's
        except ProcessLookupError:
            pass


def wait_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    """Until GET url answers 200 (bench.common.wait_for_page); an engine that never does is killed
    with any children it started before the error is raised."""
    try:
        wait_for_page(url, process, timeout, log_path)
    except RuntimeError:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise


def start_transformers_serve(
    model_dir: Path, log_dir: Path, name: str = "transformers-serve", timeout: float = 180
) -> Engine:
    """`transformers serve MODEL_DIR` pinned to that model (requests must name the same path)."""
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    command = [
        str(Path(sys.executable).parent / "transformers"),
        "serve",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **OFFLINE_ENV},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_healthy(f"http://127.0.0.1:{port}/health", process, log_path, timeout)
    return Engine(name, f"http://127.0.0.1:{port}/v1", str(model_dir), process, log_path)


def start_vllm(
    model_dir: Path,
    log_dir: Path,
    api_key: str,
    timeout: float = 600,
    max_num_seqs: int | None = None,
    kv_cache_gb: int = 1,
    prefix_caching: bool = True,
) -> Engine:
    """vLLM's OpenAI server (CPU build) on MODEL_DIR, checking `api_key` (ready after ~75 s here);
    `max_num_seqs`: the most requests it batches (None: vLLM's default), `kv_cache_gb`: its KV cache,
    `prefix_caching`: whether requests reuse the cached keys/values of a prompt start they share (vLLM's default)."""
    if not VLLM_PYTHON.exists():
        raise RuntimeError("vLLM is not installed: run `make test-vllm` (it installs .cache/vllm-venv first)")
    port = free_port()
    log_path = log_dir / f"vllm-{port}.log"
    command = [
        str(VLLM_PYTHON),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        str(CONTEXT_TOKENS),
        "--dtype",
        "float32",
        "--api-key",
        api_key,
        *(["--max-num-seqs", str(max_num_seqs)] if max_num_seqs else []),
        *([] if prefix_caching else ["--no-enable-prefix-caching"]),
    ]
    env = {**os.environ, **OFFLINE_ENV, "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gb)}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    wait_healthy(f"http://127.0.0.1:{port}/health", process, log_path, timeout)
    return Engine(
        "vllm",
        f"http://127.0.0.1:{port}/v1",
        str(model_dir),
        process,
        log_path,
        api_key=api_key,
        gives_logprobs=True,
        accepts_top_k=True,
        checks_context=True,
    )
