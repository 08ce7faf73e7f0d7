# Two entry points for a new user:
#   make demo   set everything up, index corpus/, answer a question, open the chat page
#   make test   set everything up and run the tests and the evaluation gate
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: setup demo serve test eval bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-gigabyte CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

index/manifest.json: setup $(wildcard corpus/*) models/answer-selector/selector.json
	$(BIN)/rag index

demo: setup index/manifest.json
	$(BIN)/rag ask "What is agenda item 6 of the meeting?"
	$(BIN)/rag serve

serve: setup index/manifest.json
	$(BIN)/rag serve

test: setup
	$(BIN)/python -m pytest -q
	$(BIN)/rag index --quiet
	$(BIN)/rag eval eval/dev.jsonl --out eval/reports/dev --min-recall5 0.95 --min-accuracy 0.85 \
		--min-abstention 0.20 --max-wrong-abstention 0.05
	$(BIN)/rag eval eval/paraphrase.jsonl --out eval/reports/paraphrase --min-recall5 0.85 \
		--min-accuracy 0.60 --min-abstention 0.35 --max-wrong-abstention 0.20

eval: setup index/manifest.json
	$(BIN)/rag eval eval/dev.jsonl --out eval/reports/dev
	$(BIN)/rag eval eval/paraphrase.jsonl --out eval/reports/paraphrase

bench: setup index/manifest.json
	$(BIN)/python bench/speed.py

clean:
	rm -rf index eval/reports test-output
