"""Real OpenAI-compatible engines and a real load balancer for the remote-model tests, started here.

- `transformers serve MODEL` (transformers' own server; `make test`) or vLLM's CPU build from
  .cache/vllm-venv (`make test-vllm`, PLAYGROUND_TEST_ENGINE=vllm), pinned to one test model.
- HAProxy (Debian's `haproxy`) in front of them: to check a key (401) where the engine checks none,
  to answer 503 when its backend is down, or 429 as a rate limiter does.
- A port that accepts connections and never answers (an engine that hangs), for timeouts.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import OFFLINE_ENV, free_port  # noqa: E402 - needs ROOT on sys.path

VLLM_PYTHON = ROOT / ".cache" / "vllm-venv" / "bin" / "python"
ENGINE = os.environ.get("PLAYGROUND_TEST_ENGINE", "transformers")
CONTEXT_TOKENS = 1024  # the llama-hd64 test model's max_position_embeddings
KEY_ENV = "PLAYGROUND_TEST_ENGINE_KEY"
KEY = "test-key-7f3a"  # the key the engine (vLLM) or the gateway (HAProxy) checks


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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    """Until GET url answers 200 (raising with the log's tail if the process exits or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{url} not healthy within {timeout} s:\n{log_path.read_text(errors='replace')[-3000:]}")


def start_transformers_serve(model_dir: Path, log_dir: Path, name: str = "transformers-serve", timeout: float = 180) -> Engine:
    """`transformers serve MODEL_DIR` pinned to that model (requests must name the same path)."""
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    command = [str(Path(sys.executable).parent / "transformers"), "serve", str(model_dir), "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "info"]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **OFFLINE_ENV}, stdout=log_file, stderr=subprocess.STDOUT)
    wait_healthy(f"http://127.0.0.1:{port}/health", process, log_path, timeout)
    return Engine(name, f"http://127.0.0.1:{port}/v1", str(model_dir), process, log_path)


def start_vllm(model_dir: Path, log_dir: Path, api_key: str, timeout: float = 600) -> Engine:
    """vLLM's OpenAI server (CPU build) on MODEL_DIR, checking `api_key` (ready after ~75 s here)."""
    if not VLLM_PYTHON.exists():
        raise RuntimeError("vLLM is not installed: run `make test-vllm` (it installs .cache/vllm-venv first)")
    port = free_port()
    log_path = log_dir / f"vllm-{port}.log"
    command = [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
               "--host", "127.0.0.1", "--port", str(port), "--max-model-len", str(CONTEXT_TOKENS),
               "--dtype", "float32", "--api-key", api_key]
    env = {**os.environ, **OFFLINE_ENV, "VLLM_CPU_KVCACHE_SPACE": "1"}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    wait_healthy(f"http://127.0.0.1:{port}/health", process, log_path, timeout)
    return Engine("vllm", f"http://127.0.0.1:{port}/v1", str(model_dir), process, log_path, api_key=api_key,
                  gives_logprobs=True, accepts_top_k=True, checks_context=True)


def start_engine(model_dir: Path, log_dir: Path, api_key: str) -> Engine:
    """The engine PLAYGROUND_TEST_ENGINE names (transformers serve unless it says vllm)."""
    if ENGINE == "vllm":
        return start_vllm(model_dir, log_dir, api_key)
    return start_transformers_serve(model_dir, log_dir)


def haproxy_available() -> bool:
    return shutil.which("haproxy") is not None


class Haproxy:
    """HAProxy with the given frontend/backend configuration (`{port}` is its listening port)."""

    def __init__(self, sections: str, log_dir: Path, name: str = "haproxy"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = log_dir / f"{name}-{self.port}.cfg"
        self.config_path.write_text(HAPROXY_GLOBAL + sections.replace("{port}", str(self.port)))
        self.log_path = log_dir / f"{name}-{self.port}.log"
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(["haproxy", "-db", "-f", str(self.config_path)], stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("haproxy did not listen within 10 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


HAPROXY_GLOBAL = """\
global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
"""


def key_checking_proxy(engine_url: str, key: str, log_dir: Path) -> Haproxy:
    """HAProxy that answers 401 unless the request carries `Authorization: Bearer KEY`, else forwards
    to the engine (how a gateway guards an engine that checks no key itself)."""
    host_port = engine_url.split("//", 1)[1].split("/", 1)[0]
    return Haproxy(f"""
frontend api
    bind 127.0.0.1:{{port}}
    http-request return status 401 content-type application/json string '{{"error": "invalid api key"}}' unless {{ req.hdr(authorization) -m str "Bearer {key}" }}
    default_backend engine
backend engine
    server engine {host_port}
""", log_dir, "haproxy-key")


def down_backend_proxy(log_dir: Path) -> Haproxy:
    """HAProxy whose only engine is down: it answers 503 (no server is available)."""
    return Haproxy(f"""
frontend api
    bind 127.0.0.1:{{port}}
    default_backend engine
backend engine
    server engine 127.0.0.1:{free_port()} check inter 200ms
""", log_dir, "haproxy-down")


def rate_limiting_proxy(log_dir: Path) -> Haproxy:
    """HAProxy that refuses every request with 429 Too Many Requests (a rate limit of zero)."""
    return Haproxy("""
frontend api
    bind 127.0.0.1:{port}
    http-request deny deny_status 429
""", log_dir, "haproxy-429")


class SilentServer:
    """A port that accepts connections and never answers (an engine that hangs)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/v1"

    def close(self) -> None:
        self.socket.close()
