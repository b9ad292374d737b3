"""N app replicas behind HAProxy with sticky sessions (`make replicas`).

    python scripts/replicas.py [--replicas 2] [--host 127.0.0.1] [--port 7860] [--catalog models.yaml]
                               [--print-config] [-- APP ARGS...]

Starts N `app.py` processes on free loopback ports, each with the same catalog, and HAProxy (Debian's
`haproxy` package) on --host:--port in front of them. Gradio's queue lives in each process: a
browser's `queue/join` and the event stream it then reads (`queue/data`), and an upload and the call
that uses it, must reach the same replica. HAProxy pins every browser (and gradio_client, which
keeps the cookies of its first response) to one replica with a cookie it inserts, PLAYGROUND_REPLICA;
a replica whose readiness check (`/readyz`: its default models can be served) fails, or that stops
answering, gets no new sessions, and its pinned clients are sent to another one (`option redispatch`). Models served by an `endpoint:` in the catalog are shared
by all replicas: the engine batches their requests. Ctrl+C stops everything.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Server, app_command, free_port  # noqa: E402 - needs ROOT on sys.path

COOKIE = "PLAYGROUND_REPLICA"


def haproxy_config(host: str, port: int, replica_ports: Sequence[int]) -> str:
    """The balancer's configuration: round-robin new sessions, then one replica per cookie."""
    servers = "\n".join(
        f"    server replica{index} 127.0.0.1:{replica_port} check inter 1s fall 2 rise 1 cookie replica{index}"
        for index, replica_port in enumerate(replica_ports, start=1)
    )
    return f"""\
global
    maxconn 4096

defaults
    mode http
    option httplog
    timeout connect 5s
    # Event streams stay open while a request waits in the queue and while it streams tokens.
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    # A pinned replica that is down: send the client to another one rather than fail.
    option redispatch
    retries 2

frontend playground
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance leastconn
    cookie {COOKIE} insert indirect nocache httponly
    # /readyz answers 503 while a default model cannot load (weights missing, a failed load).
    option httpchk GET /readyz
    http-check expect status 200
{servers}
"""


class Replicas:
    """N launched app replicas and HAProxy in front (`.url`, `.replicas`, `.stop_replica(i)`, `.stop()`)."""

    def __init__(
        self,
        catalog: Path,
        count: int,
        work_dir: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        app_args: Sequence[str] = (),
        timeout: float = 240,
    ):
        if shutil.which("haproxy") is None:
            raise SystemExit(
                "replicas: haproxy is not installed: run `sudo apt-get install -y haproxy` "
                "(scripts/setup.sh replicas does it when run as root)"
            )
        self.work_dir = work_dir
        # Start every replica before waiting for any: they load in parallel.
        self.replicas = [
            Server(app_command(catalog, *app_args), work_dir, f"replica{i}", timeout=timeout, wait=False)
            for i in range(1, count + 1)
        ]
        try:
            for replica in self.replicas:
                replica.wait()
            self.port = port or free_port()
            self.url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{self.port}/"
            self.config_path = work_dir / "haproxy.cfg"
            self.config_path.write_text(haproxy_config(host, self.port, [r.port for r in self.replicas]))
            self.log_path = work_dir / "haproxy.log"
            with open(self.log_path, "wb") as log_file:
                self.balancer = subprocess.Popen(
                    ["haproxy", "-db", "-f", str(self.config_path)], stdout=log_file, stderr=subprocess.STDOUT
                )
            self._wait_for_balancer(timeout=30)
        except BaseException:
            self.stop()
            raise

    def _wait_for_balancer(self, timeout: float) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.balancer.poll() is not None:
                raise RuntimeError(f"haproxy exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"haproxy did not answer on {self.url} within {timeout} s")

    def stop_replica(self, index: int) -> None:
        """Stop replica `index` (1-based), as a crash or a redeploy would."""
        self.replicas[index - 1].stop()

    def stop(self) -> None:
        balancer = getattr(self, "balancer", None)
        if balancer is not None and balancer.poll() is None:
            balancer.terminate()
            balancer.wait(timeout=10)
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.stop()

    def __enter__(self) -> Replicas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops everything the way Ctrl+C does


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    app_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, app_args = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--host", default="127.0.0.1", help="where HAProxy listens (0.0.0.0 for the network)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--catalog", type=Path, default=ROOT / "models.yaml")
    parser.add_argument(
        "--print-config", action="store_true", help="print HAProxy's configuration for these ports and exit"
    )
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.print_config:
        print(haproxy_config(args.host, args.port, [7861 + i for i in range(args.replicas)]), end="")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="replicas-") as work:
        print(f"replicas: starting {args.replicas} app processes (logs in {work})", flush=True)
        with Replicas(args.catalog.resolve(), args.replicas, Path(work), args.host, args.port, app_args) as running:
            ports = ", ".join(str(r.port) for r in running.replicas)
            print(
                f"replicas: serving on {running.url} (HAProxy, sticky cookie {COOKIE}) -> replicas on 127.0.0.1:{ports}",
                flush=True,
            )
            try:
                while all(r.process.poll() is None for r in running.replicas) and running.balancer.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                return 0
            print("replicas: a replica or the balancer exited; stopping the rest", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
