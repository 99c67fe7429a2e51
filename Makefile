# The two commands a newcomer needs:   make demo   and   make test
# Both create a virtual environment (.venv) on first use and install what the project needs into it.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean

demo: $(STAMP)
	$(VENV)/bin/audio2video demo --out demo_out

test: $(STAMP)
	$(PY) -m pytest

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 first when no torch is importable: an unpinned torch would make pip pull a multi-GB CUDA build.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install -e ".[test,eval]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) demo_out
