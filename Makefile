# Two entry points for a new user:
#   make demo   set everything up, index corpus/, answer a question, open the chat page
#   make test   set everything up and run the tests and the evaluation gate
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: setup demo serve test lint eval bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "==> creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip (a few seconds)"
	$(BIN)/pip install -q --upgrade pip
	@echo "==> installing the CPU build of torch 2.13.0 (about 200 MB; a minute or two)"
	@# The CPU build first: an unpinned torch would pull a multi-gigabyte CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	@echo "==> installing this package and its libraries (sentence-transformers, faiss, gradio, ...; a minute or two)"
	$(BIN)/pip install -q -e '.[test]'
	touch $@
	@echo "==> setup done"

# Rebuilt only when a document, the package or the shipped selector changed (incrementally: only
# changed documents are embedded again).
index/manifest.json: $(VENV)/.installed $(wildcard corpus/* rag/*.py rag/*/*.py) models/query-encoder/encoder.json models/query-adapter/adapter.json
	@echo "==> indexing corpus/ into index/ (the first time also exports the model to ONNX, about 20 s)"
	$(BIN)/rag index
	@touch $@

# Ray (rag index --engine ray) is an optional extra; the tests install it to check that engine.
$(VENV)/.installed-ray: $(VENV)/.installed
	@echo "==> installing Ray for the --engine ray tests (about 120 MB; a minute)"
	$(BIN)/pip install -q -e '.[ray]'
	touch $@

demo: setup index/manifest.json
	@echo "==> asking a question from the command line"
	$(BIN)/rag ask "What is agenda item 6 of the meeting?"
	@echo "==> more commands: $(BIN)/rag --help (or: source $(BIN)/activate, then rag ...)"
	@echo "==> starting the chat page on http://127.0.0.1:7860 (Ctrl-C to stop)"
	$(BIN)/rag serve

serve: setup index/manifest.json
	$(BIN)/rag serve

test: setup lint $(VENV)/.installed-ray
	@echo "==> running the tests (a few minutes; the browser tests need Debian's chromium)"
	$(BIN)/python -m pytest -q
	@echo "==> indexing corpus/ and checking the evaluation floors"
	$(BIN)/rag index --quiet
	$(BIN)/rag eval eval/dev.jsonl --out eval/reports/dev --min-recall5 0.95 --min-accuracy 0.85 \
		--min-abstention 0.20 --max-wrong-abstention 0.05
	$(BIN)/rag eval eval/paraphrase.jsonl --out eval/reports/paraphrase --min-recall5 0.85 \
		--min-accuracy 0.60 --min-abstention 0.35 --max-wrong-abstention 0.20

lint: setup
	@echo "==> checking style (ruff) and types (mypy; the first run takes about a minute)"
	$(BIN)/ruff check rag ui bench tests training
	$(BIN)/ruff format --check rag ui bench tests training
	$(BIN)/mypy rag ui

eval: setup index/manifest.json
	$(BIN)/rag eval eval/dev.jsonl --out eval/reports/dev
	$(BIN)/rag eval eval/paraphrase.jsonl --out eval/reports/paraphrase

bench: setup index/manifest.json
	$(BIN)/python bench/speed.py

clean:
	rm -rf index eval/reports test-output
