# The README's two commands: `make run` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.podium-installed
DEMO_TIME ?= 150

.PHONY: install run test test-slow lint chromium postgresql

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The main job end to end, offline: a local arena (demo competitions from the packaged corpus), a user,
## `podium run titanic --kaggle-endpoint ... --submit`, the arena's leaderboard (agent/arena/demo_run.py).
run: install
	$(BIN)/python -m agent.arena.demo_run --slug titanic --budget $(DEMO_TIME) --out runs

## The whole suite (slow end-to-end runs excluded; see test-slow).
test: install chromium postgresql
	$(BIN)/python -m pytest

## Debian's Chromium renders the run report in the report tests (installed once; root or sudo).
chromium:
	@command -v chromium >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

## Debian's PostgreSQL server binaries: the database tests start their own server from them in a temporary
## folder (tests/postgres.py); the package's own cluster is not used.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }

test-slow: install postgresql
	$(BIN)/python -m pytest -m slow

lint: install
	$(BIN)/ruff check .
