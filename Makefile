# `make` alone lists the targets: every target with a `## ` comment shows up.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
# Passed to commands through the environment, never pasted into a shell line.
export QUICK CHART

.PHONY: help install dev pin config up down cluster-up cluster-down logs status worker monitor flower bench test \
	screenshot lint clean

help: ## Show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv with the tutorial's pinned requirements

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

dev: $(VENV)/.dev-installed ## Add the test, lint and benchmark tools to .venv

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install -q -r requirements.txt -r requirements-dev.txt
	touch $@

# pip-compile (pip-tools): each pin says which requirement brought it in.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make pin" $(VENV)/bin/pip-compile -q --upgrade \
	--strip-extras --no-emit-index-url --no-emit-find-links

pin: dev ## Pin the newest releases of requirements*.in in requirements*.txt
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

up: install ## Start RabbitMQ, a worker and Flower in the background; returns when ready
	@scripts/stack.sh up

down: ## Stop what `make up` started (Flower's saved state is kept)
	@scripts/stack.sh down

cluster-up: install ## Start a 3-node RabbitMQ cluster, a worker and Flower on it (docs/cluster.md)
	@scripts/cluster.sh up

cluster-down: ## Stop what `make cluster-up` started
	@scripts/cluster.sh down

logs: ## Follow the worker's log
	@scripts/stack.sh logs

status: ## Show what is running
	@scripts/stack.sh status

# Checks the settings, in one line if something is wrong (no `##`: not in the help).
config: install
	@PYTHONPATH=. $(VENV)/bin/python scripts/settings-check.py

worker: config ## Run the post's worker in the foreground
	$(VENV)/bin/celery -A tasks worker --loglevel=info --concurrency=1

monitor: config ## Print every task state change as it happens
	$(VENV)/bin/python monitor.py

flower: config ## Run Flower in the foreground, as the post does
	$(VENV)/bin/celery -A tasks flower

bench: config dev ## Measure Celery beside RabbitMQ's floor on the running stack (QUICK=1: a minute)
	$(VENV)/bin/python -m bench $${QUICK:+--quick} $${CHART:+--chart "$$CHART"}

test: dev ## Run the tests against a real RabbitMQ, real workers and, with Docker, the Compose stack
	@scripts/rabbitmq.sh install
	@scripts/os-packages.sh chromium curl iproute2 patch
	$(VENV)/bin/pytest

screenshot: dev ## Retake docs/flower-tasks.png, the README's picture of Flower
	$(VENV)/bin/pytest -n0 tests/test_flower_browser.py --screenshot=docs/flower-tasks.png

lint: dev ## Check the code with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean: ## Stop everything; delete .run/, the saved state (Compose: its volumes) and .venv/
	@scripts/cluster.sh down
	@scripts/stack.sh clean
	rm -rf $(VENV)
