# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: install run test worker clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)

## The service with a demo article: http://$(HOST):$(PORT)/demo
run: install
	MODERATION_ENV=development $(BIN)/moderation run --host $(HOST) --port $(PORT)

## All tests (a real Redis and real RQ workers are started by the tests themselves)
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

## An extra queue worker next to a running `make run`
worker: install
	MODERATION_ENV=development $(BIN)/moderation worker

clean:
	rm -rf $(VENV) .pytest_cache
