# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test test-postgres worker widget chromium nginx translations bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,postgres]'
	touch $(STAMP)

# npm packages, exact versions in package.json and package-lock.json: axe-core for the accessibility
# test, terser for `make widget`.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
	  else echo "npm is missing: sudo apt-get install npm"; exit 1; fi; }
	npm ci --no-audit --no-fund --silent
	touch $(AXE)

install: $(STAMP) $(AXE)

## The service with a demo article: http://$(HOST):$(PORT)/demo
run: install
	MODERATION_ENV=development $(BIN)/moderation run --host $(HOST) --port $(PORT)

## All tests (a real Redis, real RQ workers and real headless Chromium)
test: install chromium nginx
	$(BIN)/pytest $(PYTEST_ARGS)

## The same suite on a throwaway PostgreSQL cluster (Debian's postgresql package)
test-postgres: install chromium nginx
	tools/with_postgres.sh $(BIN)/pytest $(PYTEST_ARGS)

## Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded by Playwright)
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Chromium is missing: sudo apt-get install chromium (or set CHROMIUM=/path)"; exit 1; fi; }

## Debian's nginx for tests/test_deploy_nginx.py and the live-readers bench (deploy/nginx.conf in a real
## nginx), installed as root like Chromium. The tests run their own nginx on loopback ports (with systemd,
## Debian also starts its default site on port 80: `systemctl disable --now nginx` if unwanted).
NGINX ?= /usr/sbin/nginx
nginx:
	@test -x $(NGINX) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	  else echo "nginx is missing: sudo apt-get install nginx (tests/test_deploy_nginx.py skips without it)"; fi; }

## One minified widget bundle per language (terser) with its strings from widget.po; print each one's size
## and SRI (gzip budget: 8 KB each)
widget: install
	$(BIN)/python tools/build_widget.py

## An extra queue worker next to a running `make run`
worker: install
	MODERATION_ENV=development $(BIN)/moderation worker

## Throughput suite next to Isso 0.14 and bare Flask (docs/benchmarks.md); ARGS=--quick / --check
BENCH_STAMP := $(VENV)/.bench-stamp
ARGS ?=
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,postgres,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) chromium nginx
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else echo "wrk is missing: sudo apt-get install wrk"; exit 1; fi; }
	@test -x .bench/isso-venv/bin/gunicorn || { $(PYTHON) -m venv .bench/isso-venv && \
	  .bench/isso-venv/bin/pip install --quiet --disable-pip-version-check 'isso==0.14.*' 'gunicorn>=23,<28'; }
	$(BIN)/python bench/suite.py $(ARGS)

## Both gettext domains: "messages" (dashboard, babel.cfg) and "widget" (reader widget,
## babel-widget.cfg): extract, merge into every catalog, compile, rebuild the widget that embeds
## them (translate the .po in between; adding a language: docs/i18n.md). `python -m` puts the
## repository root on sys.path, so the widget extractor in tools/build_widget.py imports.
PYBABEL := $(BIN)/python -m babel.messages.frontend
CATALOGS := moderation/translations
translations: install
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header \
	  -o $(CATALOGS)/messages.pot .
	$(PYBABEL) extract -F babel-widget.cfg --no-location --omit-header -o $(CATALOGS)/widget.pot .
	$(PYBABEL) update -D messages -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching
	$(PYBABEL) update -D widget -i $(CATALOGS)/widget.pot -d $(CATALOGS) --no-fuzzy-matching
	$(PYBABEL) compile -D messages -d $(CATALOGS)
	$(PYBABEL) compile -D widget -d $(CATALOGS)
	$(BIN)/python tools/build_widget.py

clean:
	rm -rf $(VENV) .pytest_cache
