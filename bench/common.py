"""What every measurement shares: run settings, launched servers, timing statistics and RSS."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


@dataclass(frozen=True)
class Settings:
    """How much to measure: `full` for the real-size run, `smoke` for the seconds-long check."""

    mode: str
    asr_audio: str  # which bench.inputs.Inputs recording the ASR latency uses
    latency_calls: dict[str, int]  # measured calls per variant (after one warm-up each)
    throughput_requests: dict[int, int]  # concurrent clients -> requests in total
    bare_throughput_images: int
    generation_runs: int
    new_tokens: int
    startup_runs: int
    users: tuple[int, ...]  # "many users": concurrent /generate clients per level
    user_new_tokens: int
    user_requests_alone: int  # requests the lone user makes (browser: rounds alternating between the apps)
    engine_rounds: int = 3  # many users on vLLM: interleaved rounds per client count (bench/vllm_users.py)
    speech_users: tuple[int, ...] = (1, 4, 16)  # concurrent /transcribe clients per level
    speech_requests_alone: int = 1  # clips the lone /transcribe client (and the bare loop) send one after another
    idle_cpu_s: float = 5.0  # start-up: how long a started server's idle CPU is read
    quantization_new_tokens: int = 32  # tokens each quantization variant generates per round
    quantization_rounds: int = 3
    fine_tune_size: str = "real"  # bench/fine_tune.py: "real" (DistilBERT base's shape) or "tiny"
    fine_tune_rounds: int = 5  # tab and bare Trainer, one training each per round, each first every other round
    fine_tune_epochs: int = 3
    fill_mask_requests: dict[int, int] | None = None  # throughput under load: clients -> /fill_mask requests


FULL = Settings(
    mode="full",
    asr_audio="audio_30s",
    latency_calls={"asr": 5, "image_classification": 15, "fill_mask": 25, "zero_shot": 15},
    throughput_requests={1: 12, 4: 24, 16: 48},
    bare_throughput_images=16,
    generation_runs=5,
    new_tokens=128,
    startup_runs=3,
    users=(1, 4, 16),
    user_new_tokens=64,
    user_requests_alone=6,
    speech_requests_alone=2,
    fill_mask_requests={1: 40, 16: 96},
)
SMOKE = Settings(
    mode="smoke",
    asr_audio="audio_1s",
    latency_calls={"asr": 2, "image_classification": 3, "fill_mask": 3, "zero_shot": 3},
    throughput_requests={1: 2, 4: 4, 16: 16},
    bare_throughput_images=4,
    generation_runs=1,
    new_tokens=8,
    startup_runs=1,
    users=(1, 4),  # the structure of every section; 16 clients of a tiny model add only time
    user_new_tokens=8,
    user_requests_alone=1,
    engine_rounds=1,
    speech_users=(1, 4),  # 16 tiny-model transcriptions would cost the smoke run ~15 s
    idle_cpu_s=1.0,
    quantization_new_tokens=4,
    quantization_rounds=1,
    fine_tune_size="tiny",
    fine_tune_rounds=1,
    fine_tune_epochs=1,
    fill_mask_requests={1: 2, 16: 16},
)


_T0 = time.perf_counter()


def say(message: str) -> None:
    """Progress on stdout, with the seconds since the run started."""
    print(f"[{time.perf_counter() - _T0:6.1f} s] {message}", flush=True)


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Median and 90th percentile (nearest rank) of a list of seconds."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered) + 0.5) - 1))]
    return {"median_s": statistics.median(ordered), "p90_s": p90, "n": len(ordered)}


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of round-by-round ratios. The variants run interleaved, one call each per round, so a
    slow stretch of this shared machine slows both sides of a round alike and drops out of its ratio,
    where a ratio of medians can set one variant's slow stretch against another's fast one."""
    return statistics.median(ratio(a, b) for a, b in zip(numerators, denominators, strict=True))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A web app in a subprocess (this app or a comparison demo) and the time its page took to answer.

    `Server.launched` holds every server this process started and has not stopped, so a failing test
    can report how they are (tests/conftest.py)."""

    launched: list[Server] = []

    def __init__(
        self,
        command: list[str],
        log_dir: Path,
        name: str,
        timeout: float = 240,
        wait: bool = True,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ):
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_dir / f"{name}-{self.port}.log"
        # A crash in native code (torch, tokenizers) then leaves the Python stacks in the log.
        env = {
            **os.environ,
            **OFFLINE_ENV,
            "PYTHONFAULTHANDLER": "1",
            "GRADIO_SERVER_PORT": str(self.port),
            **(env or {}),
        }
        self.started = time.perf_counter()
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                [arg.replace("{port}", str(self.port)) for arg in command],
                cwd=cwd,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        Server.launched.append(self)
        if wait:
            self.wait()

    def wait(self) -> Server:
        """Block until the page answers (stopping the process if it never does); sets startup_s."""
        try:
            wait_for_page(self.url, self.process, self.timeout, self.log_path)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - self.started
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self) -> Any:
        from gradio_client import Client

        return Client(self.url, verbose=False)

    def state(self, lines: int = 40) -> str:
        """Whether the process still runs (or how it ended: a negative code is the signal) and its log's end."""
        code = self.process.poll()
        status = "running" if code is None else f"exited with {code}"
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join([f"{' '.join(map(str, self.process.args[:4]))} ... on {self.url}: {status}", *tail])

    def stop(self) -> None:
        if self in Server.launched:
            Server.launched.remove(self)
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for_page(url: str, process: subprocess.Popen, timeout: float, log_path: Path) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args} exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout} s:\n{log_path.read_text(errors='replace')[-3000:]}")


def app_command(catalog: Path, *extra: str, root: Path = ROOT) -> list[str]:
    """This app's command line (`root`: the checkout whose app.py runs, e.g. another revision's worktree)."""
    return [
        sys.executable,
        str(root / "app.py"),
        "--catalog",
        str(catalog),
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        *extra,
    ]


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def idle_cpu_share(pid: int, seconds: float) -> float:
    """The share of one core process `pid` (all its threads) uses over the next `seconds`."""
    import psutil

    process = psutil.Process(pid)
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    return ((after.user - before.user) + (after.system - before.system)) / seconds


def rss_bytes(pid: int) -> int:
    import psutil

    return psutil.Process(pid).memory_info().rss


class PeakRss:
    """The highest RSS of a process during a `with` block.

    The kernel's own high-water mark (VmHWM, reset through /proc/PID/clear_refs) catches spikes
    between samples; where that reset is not allowed, 5 ms polling is the fallback.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._kernel = False

    def __enter__(self) -> PeakRss:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self._kernel = True
        except OSError:
            self._kernel = False
        self.peak = rss_bytes(self.pid)
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._kernel:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak = max(self.peak, int(line.split()[1]) * 1024)
