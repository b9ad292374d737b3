"""Real OpenAI-compatible engines and a real load balancer for the remote-model tests, started here.

- `transformers serve MODEL` (`make test`) or vLLM's CPU build from
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402 - needs ROOT on sys.path
from bench.engines import CONTEXT_TOKENS, Engine, start_transformers_serve, start_vllm  # noqa: E402, F401 - re-exported

ENGINE = os.environ.get("PLAYGROUND_TEST_ENGINE", "transformers")
KEY_ENV = "PLAYGROUND_TEST_ENGINE_KEY"
KEY = "test-key-7f3a"  # the key the engine (vLLM) or the gateway (HAProxy) checks


def start_engine(model_dir: Path, log_dir: Path, api_key: str) -> Engine:
    """The engine PLAYGROUND_TEST_ENGINE names (transformers serve unless it says vllm)."""
    engine = (
        start_vllm(model_dir, log_dir, api_key) if ENGINE == "vllm" else start_transformers_serve(model_dir, log_dir)
    )
    warm_up(engine)
    return engine


def warm_up(engine: Engine) -> None:
    """One short streamed request: vLLM's CPU build pays one-time costs at its first request and then
    sends that answer's tokens in one burst, which a test of streaming in pieces must not meet."""
    import openai

    client = openai.OpenAI(base_url=engine.url, api_key=engine.api_key or "EMPTY", max_retries=0, timeout=300)
    for _ in client.completions.create(model=engine.model, prompt="hello", max_tokens=4, temperature=0.0, stream=True):
        pass


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
            self.process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(self.config_path)], stdout=log_file, stderr=subprocess.STDOUT
            )
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
    return Haproxy(
        f"""
frontend api
    bind 127.0.0.1:{{port}}
    http-request return status 401 content-type application/json string '{{"error": "invalid api key"}}' unless {{ req.hdr(authorization) -m str "Bearer {key}" }}
    default_backend engine
backend engine
    server engine {host_port}
""",
        log_dir,
        "haproxy-key",
    )


def down_backend_proxy(log_dir: Path) -> Haproxy:
    """HAProxy whose only engine is down: it answers 503 (no server is available)."""
    return Haproxy(
        f"""
frontend api
    bind 127.0.0.1:{{port}}
    default_backend engine
backend engine
    server engine 127.0.0.1:{free_port()} check inter 200ms
""",
        log_dir,
        "haproxy-down",
    )


def rate_limiting_proxy(log_dir: Path) -> Haproxy:
    """HAProxy that refuses every request with 429 Too Many Requests (a rate limit of zero)."""
    return Haproxy(
        """
frontend api
    bind 127.0.0.1:{port}
    http-request deny deny_status 429
""",
        log_dir,
        "haproxy-429",
    )


class SilentServer:
    """A port that accepts connections and never answers (an engine that hangs)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/v1"

    def close(self) -> None:
        self.socket.close()
