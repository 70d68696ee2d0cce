# LearnHub: `make run` serves the demo, `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: run test bench setup translations i18n-update serve clean help

help:
	@echo "make run   - set up and serve the demo at http://$(HOST):$(PORT)"
	@echo "make test  - set up and run the whole test suite"
	@echo "make serve - production: no demo data; needs SECRET_KEY and LEARNHUB_BASE_URL"
	@echo "make bench - set up and measure the app under wrk (see README, Speed)"

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

translations: $(VENV)/.installed
	@$(BIN)/pybabel -q compile -d learnhub/translations

setup: $(VENV)/.installed translations

# Re-extract the strings after changing templates or code; then translate the new ones in the .po.
i18n-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F learnhub/translations/babel.cfg -k _l -k lazy_gettext --no-location \
	    --omit-header --sort-output -o learnhub/translations/messages.pot learnhub
	$(BIN)/pybabel update -i learnhub/translations/messages.pot -d learnhub/translations --no-fuzzy-matching --no-wrap --ignore-obsolete
	rm -f learnhub/translations/messages.pot

run: setup
	LEARNHUB_DEMO=1 $(BIN)/flask db upgrade
	LEARNHUB_DEMO=1 $(BIN)/flask learnhub sync
	LEARNHUB_DEMO=1 $(BIN)/flask learnhub seed-demo
	@echo ""
	@echo "LearnHub demo: http://$(HOST):$(PORT)  (stop with Ctrl+C)"
	LEARNHUB_DEMO=1 $(BIN)/gunicorn --workers $(WORKERS) --threads 4 --bind $(HOST):$(PORT) \
	    --access-logfile - wsgi:app

# Production: never seeds demo accounts; refuses to start without SECRET_KEY and LEARNHUB_BASE_URL.
serve: setup
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY (the same long random value on every app server)"; exit 1; }
	@test -n "$$LEARNHUB_BASE_URL" || { echo "make serve: set LEARNHUB_BASE_URL (the public address, e.g. https://hoc.example.gov.vn)"; exit 1; }
	LEARNHUB_PRODUCTION=1 LEARNHUB_DEMO= $(BIN)/flask db upgrade
	LEARNHUB_PRODUCTION=1 LEARNHUB_DEMO= $(BIN)/flask learnhub sync
	LEARNHUB_PRODUCTION=1 LEARNHUB_DEMO= $(BIN)/gunicorn --workers $(WORKERS) --threads 4 --bind $(HOST):$(PORT) \
	    --access-logfile - wsgi:app

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Installs wrk the way CI installs Chromium, then runs every scenario (BENCH_ARGS picks some).
bench: setup
	@if ! command -v wrk >/dev/null 2>&1; then \
	    echo "Installing Debian's wrk for the benchmarks..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	fi
	WORKERS=$(WORKERS) $(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
	find learnhub/translations -name '*.mo' -delete
