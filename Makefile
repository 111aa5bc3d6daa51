# `make` alone lists the targets: every target with a `## ` comment shows up.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv

.PHONY: help install pin config up down logs status worker monitor flower bench test lint clean

help: ## Show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv with the pinned requirements

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt -r requirements-dev.txt
	touch $@

pin: ## Pin the newest releases of requirements*.in in requirements*.txt
	@scripts/pin.sh

up: install ## Start RabbitMQ, a worker and Flower in the background; returns when ready
	@scripts/stack.sh up

down: ## Stop what `make up` started (Flower's saved state is kept)
	@scripts/stack.sh down

logs: ## Follow the worker's log
	@scripts/stack.sh logs

status: ## Show what is running
	@scripts/stack.sh status

# Checks the settings, in one line if something is wrong (no `##`: not in the help).
config: install
	@$(VENV)/bin/python -m celeryconfig >/dev/null

worker: config ## Run the post's worker in the foreground
	$(VENV)/bin/celery -A tasks worker --loglevel=info --concurrency=1

monitor: config ## Print every task state change as it happens
	$(VENV)/bin/python monitor.py

flower: config ## Run Flower in the foreground, as the post does
	$(VENV)/bin/celery -A tasks flower

bench: config ## Measure Celery beside RabbitMQ's floor on the running stack (QUICK=1: seconds)
	$(VENV)/bin/python -m bench $(if $(QUICK),--quick) $(if $(CHART),--chart $(CHART))

test: install ## Run the tests against a real RabbitMQ and real workers
	@scripts/rabbitmq.sh install
	@scripts/os-packages.sh chromium curl iproute2
	$(VENV)/bin/pytest

lint: install ## Check the code with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean: ## Stop everything; delete .run/, Flower's saved state and .venv/
	@scripts/stack.sh clean
	rm -rf $(VENV)
