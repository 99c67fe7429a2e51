# The two commands a newcomer needs:   make demo   and   make test
# Both create a virtual environment (.venv) on first use and install what the project needs into it.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo test install clean

demo: $(STAMP)
	$(VENV)/bin/audio2video demo -o demo_out -y

test: $(STAMP)
	$(PY) -m pytest

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# When .venv has no torch, $(TORCH) goes in first, and which build of it depends on the machine: on Linux (or
# Windows) without an NVIDIA driver the CPU-only build from PyTorch's CPU index (PyPI's Linux build of the same
# version is a multi-GB CUDA build); with nvidia-smi present, or on macOS (CPU + MPS), PyPI's own build. The CPU
# build is taken without its dependencies, which then come from your usual index; if the CPU index cannot be
# reached, PyPI's build is installed after a note saying so.
$(STAMP): pyproject.toml Makefile | $(PY)
	@$(PY) -c "import torch" 2>/dev/null || \
	if command -v nvidia-smi >/dev/null 2>&1 || [ "$$(uname -s)" = Darwin ]; then \
	    echo "$(PY) -m pip install $(TORCH)"; $(PY) -m pip install "$(TORCH)"; \
	else \
	    echo "no NVIDIA driver: $(TORCH), CPU-only build, from $(TORCH_CPU_INDEX)"; \
	    { $(PY) -m pip install --no-deps --index-url "$(TORCH_CPU_INDEX)" "$(TORCH)" && \
	      $(PY) -m pip install "$(TORCH)"; } || \
	    { echo "note: $(TORCH_CPU_INDEX) could not be used; installing $(TORCH) from your default index" \
	           "(on Linux a CUDA build, several GB)"; $(PY) -m pip install "$(TORCH)"; }; \
	fi
	$(PY) -m pip install -e ".[test,eval,onnx]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) demo_out
