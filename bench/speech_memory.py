"""Peak memory of the speech-to-text tab: a 5-minute recording vs a long one (default 60 minutes).

    .venv/bin/python bench/speech_memory.py [--minutes 60] [--model "Wav2Vec2 CTC (test)"] [--compare]

Writes the random-weight test models (upload limit raised to 300 MB) and two low-amplitude tone+noise
WAV files (16 kHz), then for each file starts a fresh app (`app.py --tabs speech_to_text`), loads the
model with a 1 s request, and
transcribes the file through `/transcribe` while sampling the server's RSS. Both files are longer than
one 30 s chunk, so both run full batches of 4 windows (the model's activations for a batch are a fixed
cost, ~190 MB for the test wav2vec2). Target: the long file's peak is within 100 MB of the short
file's (decoded audio lives in a temporary file and is read one window at a time). `--compare` also measures, in a separate process, `pipe(whole_array, chunk_length_s=30)`: what
holding the recording as one array costs.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000
MB = 2**20
TARGET_GROWTH_MB = 100
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}


def write_wav(path: Path, seconds: float) -> Path:
    """Tone + noise around -40 dBFS (above the silence threshold), written in 60 s blocks."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as out:
        for start in range(0, int(seconds), 60):
            t = np.arange(start * RATE, int(min(start + 60, seconds) * RATE)) / RATE
            out.write(0.01 * np.sin(2 * np.pi * 220 * t) + 0.003 * rng.standard_normal(t.size))
    return path


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """Samples a process's RSS every 20 ms while the block runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_app(catalog: Path, model: str, warm_up: Path, audio: Path) -> dict[str, float]:
    from gradio_client import Client, handle_file

    port = free_port()
    command = [
        sys.executable,
        str(ROOT / "app.py"),
        "--catalog",
        str(catalog),
        "--port",
        str(port),
        "--tabs",
        "speech_to_text",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **OFFLINE}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        client = Client(url, verbose=False)
        client.predict(handle_file(str(warm_up)), model, "transcribe", "auto", "off", 42, 0, api_name="/transcribe")
        baseline = rss(process.pid)
        began = time.perf_counter()
        with PeakRss(process.pid) as peak:
            client.predict(handle_file(str(audio)), model, "transcribe", "auto", "word", 42, 0, api_name="/transcribe")
        return {"baseline_mb": baseline / MB, "peak_mb": peak.peak / MB, "seconds": time.perf_counter() - began}
    finally:
        process.terminate()
        process.wait(timeout=30)


IN_MEMORY = """
import resource, sys, numpy as np, soundfile as sf
from transformers import pipeline
pipe = pipeline("automatic-speech-recognition", model=sys.argv[1])
pipe({"raw": np.zeros(16000, np.float32) + 0.01, "sampling_rate": 16000})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
samples, _ = sf.read(sys.argv[2], dtype="float32")
pipe({"raw": samples, "sampling_rate": 16000}, chunk_length_s=30, batch_size=4, return_timestamps="word")
print(before / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def measure_in_memory(model_dir: Path, audio: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", IN_MEMORY, str(model_dir), str(audio)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **OFFLINE},
    )
    before, after = map(float, out.stdout.split()[-2:])
    return {"baseline_mb": before, "peak_mb": after}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--short-seconds", type=float, default=300)
    parser.add_argument("--model", default="Wav2Vec2 CTC (test)")
    parser.add_argument("--compare", action="store_true", help="also measure the whole-array pipeline call")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="speech-memory-") as folder:
        work = Path(folder)
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_test_models.py"), str(work / "models")],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        catalog = work / "models" / "models.yaml"
        settings = yaml.safe_load(catalog.read_text())
        settings["defaults"]["max_upload_mb"] = 300  # an hour of 16 kHz WAV is 115 MB
        catalog.write_text(yaml.safe_dump(settings))
        warm_up = write_wav(work / "warm_up.wav", 1)
        short = write_wav(work / "short.wav", args.short_seconds)
        long = write_wav(work / "long.wav", args.minutes * 60)
        results = {}
        for name, path in (("short", short), ("long", long)):
            results[name] = measure_app(catalog, args.model, warm_up, path)
            print(
                f"app, {name} ({sf.info(str(path)).duration / 60:.1f} min): "
                + ", ".join(f"{k} {v:.0f}" for k, v in results[name].items()),
                flush=True,
            )
        growth = results["long"]["peak_mb"] - results["short"]["peak_mb"]
        print(
            f"peak growth long vs short: {growth:.0f} MB (target <= {TARGET_GROWTH_MB} MB): {'ok' if growth <= TARGET_GROWTH_MB else 'FAILED'}"
        )
        if args.compare:
            folder_name = "wav2vec2" if "wav2vec2" in args.model.lower() else "whisper"
            for name, path in (("short", short), ("long", long)):
                numbers = measure_in_memory(work / "models" / folder_name, path)
                print(
                    f"whole-array pipeline call, {name}: " + ", ".join(f"{k} {v:.0f}" for k, v in numbers.items()),
                    flush=True,
                )
    return 0 if growth <= TARGET_GROWTH_MB else 1


if __name__ == "__main__":
    sys.exit(main())
