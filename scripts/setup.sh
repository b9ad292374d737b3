#!/usr/bin/env bash
# Set-up for `make run` (runtime), `make replicas` (runtime + HAProxy) and `make test` (runtime +
# test tools). Idempotent and quick when nothing changed: Python packages go into .venv, system
# packages come from apt-get when root.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

system_packages=(ffmpeg tesseract-ocr tesseract-ocr-eng)
if [[ "$mode" == "test" ]]; then
  # haproxy: the replica load test's balancer, and the gateway the remote-engine tests put in front.
  system_packages+=(chromium espeak-ng fonts-noto-color-emoji fonts-nanum haproxy)
elif [[ "$mode" == "replicas" ]]; then
  system_packages+=(haproxy)
fi

missing=()
for pkg in "${system_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: install them with:  sudo apt-get install -y ${missing[*]}" >&2
    echo "setup: until then, audio formats beyond WAV/FLAC/OGG (ffmpeg), document OCR (tesseract)" >&2
    echo "       and browser tests (chromium) report what is missing instead of working." >&2
  fi
fi

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi

[[ "$mode" == "replicas" ]] && mode=run  # the same Python packages as `make run`
# The lock files pin every package (`make lock` writes them from requirements*.in); the test one
# holds the runtime pins too. torch is pinned as X.Y.Z: where pip finds the X.Y.Z+cpu wheel locally
# (this project's machines) it ranks above PyPI's CUDA build, so no CUDA build is pulled.
lock=requirements.txt
[[ "$mode" == "test" ]] && lock=requirements-test.txt
stamp=".venv/.installed-$mode"
digest="$(sha256sum "$lock" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
  echo "setup: installing Python packages ($lock)"
  .venv/bin/pip install -q -r "$lock"
  echo "$digest" > "$stamp"
fi
