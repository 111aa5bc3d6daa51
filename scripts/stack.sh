#!/usr/bin/env bash
# The tutorial's stack: RabbitMQ and one worker (concurrency 1).
#
# Usage: scripts/stack.sh up|down|logs|status
#
# With a Docker engine it runs docker-compose.yml. Without one, RabbitMQ comes
# from scripts/rabbitmq.sh and the worker runs in the background under
# `celery multi`, with its log and pid file in .run/. Settings (environment):
#   STACK          docker or native, to choose by hand
#   STACK_DIR      the run directory (.run)
#   RABBITMQ_PORT, RABBITMQ_MANAGEMENT_PORT  as in scripts/rabbitmq.sh
set -euo pipefail
cd "$(dirname "$0")/.."

run="${STACK_DIR:-.run}"
port="${RABBITMQ_PORT:-5672}"
management_port="${RABBITMQ_MANAGEMENT_PORT:-8080}"
export RABBITMQ_DIR="${RABBITMQ_DIR:-$run/rabbitmq}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-pyamqp://guest@localhost:$port//}"
celery=.venv/bin/celery
worker="worker@$(hostname -s)"

die() { echo "stack: $*" >&2; exit 1; }

backend() {
    case "${STACK:-}" in
        docker|native) echo "$STACK" ;;
        "") if docker info >/dev/null 2>&1; then echo docker; else echo native; fi ;;
        *) die "STACK must be docker or native, not '$STACK'" ;;
    esac
}

multi() {
    "$celery" multi "$1" worker -A tasks --loglevel=info --concurrency=1 \
        --pidfile="$run/%n.pid" --logfile="$run/%n.log" >/dev/null
}

worker_running() { kill -0 "$(cat "$run/worker.pid" 2>/dev/null)" 2>/dev/null; }

wait_for_worker() {
    for _ in $(seq 60); do
        "$celery" -A tasks inspect ping -d "$worker" --timeout 1 >/dev/null 2>&1 && return
        worker_running || break
    done
    tail -n 20 "$run/worker.log" >&2
    die "the worker did not answer; its log is $run/worker.log"
}

up() {
    if [ "$(backend)" = docker ]; then
        # --wait returns once every service's healthcheck passes.
        docker compose up -d --wait
    else
        [ -x "$celery" ] || die "no $celery; run: make install"
        scripts/rabbitmq.sh start
        mkdir -p "$run"
        worker_running || multi start
        wait_for_worker
    fi
    cat <<EOF

The stack is up ($(backend)):
  RabbitMQ    amqp://localhost:$port    management UI http://localhost:$management_port (guest / guest)
  worker      concurrency 1, ADD_SLEEP=${ADD_SLEEP:-60}s    log: make logs

Next: open a Python REPL at the repo root (.venv/bin/python) and run
  >>> from tasks import add
  >>> result = add.delay(2, 3)
EOF
}

down() {
    if [ "$(backend)" = docker ]; then
        docker compose down
    else
        [ -f "$run/worker.pid" ] && "$celery" multi stopwait worker --pidfile="$run/%n.pid" >/dev/null
        scripts/rabbitmq.sh stop
    fi
}

logs() {
    if [ "$(backend)" = docker ]; then
        docker compose logs -f worker
    else
        [ -f "$run/worker.log" ] || die "no worker log yet; run: make up"
        tail -n 50 -F "$run/worker.log"
    fi
}

status() {
    if [ "$(backend)" = docker ]; then
        docker compose ps
    else
        scripts/rabbitmq.sh status || true
        "$celery" -A tasks status || true
    fi
}

case "${1:-}" in
    up|down|logs|status) "$1" ;;
    *) die "usage: scripts/stack.sh up|down|logs|status" ;;
esac
