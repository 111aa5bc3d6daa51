#!/usr/bin/env bash
# The tutorial's stack: RabbitMQ, one worker (concurrency 1) and Flower.
#
# Usage: scripts/stack.sh up|down|logs|status|clean
#
# With a Docker engine it runs docker-compose.yml. Without one, RabbitMQ comes
# from scripts/rabbitmq.sh, the worker runs in the background under
# `celery multi` and Flower beside it, each with its log and pid file in .run/.
# `down` keeps Flower's saved state; `clean` deletes it. Settings (environment):
#   STACK          docker or native, to choose by hand
#   STACK_DIR      the run directory (.run)
#   FLOWER_PORT    Flower's port (5555)
#   RABBITMQ_PORT, RABBITMQ_MANAGEMENT_PORT  as in scripts/rabbitmq.sh
set -euo pipefail
cd "$(dirname "$0")/.."

run="${STACK_DIR:-.run}"
port="${RABBITMQ_PORT:-5672}"
management_port="${RABBITMQ_MANAGEMENT_PORT:-8080}"
export RABBITMQ_DIR="${RABBITMQ_DIR:-$run/rabbitmq}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-pyamqp://guest@localhost:$port//}"
flower_port="${FLOWER_PORT:-5555}"
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

wait_for_worker() {
    for _ in $(seq 60); do
        "$celery" -A tasks inspect ping -d "$worker" --timeout 1 >/dev/null 2>&1 && return
        alive worker || break
    done
    tail -n 20 "$run/worker.log" >&2
    die "the worker did not answer; its log is $run/worker.log"
}

alive() { kill -0 "$(cat "$run/$1.pid" 2>/dev/null)" 2>/dev/null; }

start_flower() {
    alive flower && return
    # Persistent: what Flower has seen survives a restart (see flowerconfig.py).
    nohup "$celery" -A tasks flower --port="$flower_port" --persistent=True --db="$run/flower" \
        > "$run/flower.log" 2>&1 &
    echo $! > "$run/flower.pid"
}

flower_healthy() {
    .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$flower_port/healthcheck" 2>/dev/null
}

wait_for_flower() {
    for _ in $(seq 100); do
        flower_healthy && return
        alive flower || break
        sleep 0.2
    done
    tail -n 20 "$run/flower.log" >&2
    die "Flower did not answer; its log is $run/flower.log"
}

stop_flower() {
    alive flower || return 0
    kill -TERM "$(cat "$run/flower.pid")"  # a clean stop: Flower saves its state
    for _ in $(seq 100); do alive flower || break; sleep 0.2; done
    rm -f "$run/flower.pid"
}

up() {
    [ -x "$celery" ] || die "no $celery; run: make install"
    .venv/bin/python -m celeryconfig >/dev/null  # says in one line what is wrong
    if [ "$(backend)" = docker ]; then
        # --wait returns once every service's healthcheck passes.
        docker compose up -d --wait
    else
        scripts/rabbitmq.sh start
        mkdir -p "$run"
        alive worker || multi start
        start_flower
        wait_for_worker
        wait_for_flower
    fi
    local login="guest / guest" client=""
    if [ "$(backend)" = docker ]; then
        # Compose's broker user comes from .env, unless the environment sets it.
        local user password
        user=${RABBITMQ_USER:-$(sed -n 's/^RABBITMQ_USER=//p' .env)}
        password=${RABBITMQ_PASSWORD:-$(sed -n 's/^RABBITMQ_PASSWORD=//p' .env)}
        login="$user / $password, from .env"
        client="  \$ export CELERY_BROKER_URL=pyamqp://$user:$password@localhost:$port//"$'\n'
    fi
    cat <<EOF

The stack is up ($(backend)):
  RabbitMQ    amqp://localhost:$port    management UI http://localhost:$management_port ($login)
  worker      concurrency 1, ADD_SLEEP=${ADD_SLEEP:-60}s    log: make logs
  Flower      http://localhost:$flower_port    log in with FLOWER_BASIC_AUTH (flower / flower unless set)

Next: open a Python REPL at the repo root (.venv/bin/python) and run
${client}  >>> from tasks import add
  >>> result = add.delay(2, 3)
EOF
}

down() {
    if [ "$(backend)" = docker ]; then
        docker compose down
    else
        stop_flower
        alive worker && multi stopwait
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
        flower_healthy && echo "flower: http://localhost:$flower_port" || echo "flower: not running"
    fi
}

clean() {
    if [ "$(backend)" = docker ]; then
        docker compose down --volumes
    else
        down
        rm -rf "$run"
    fi
}

case "${1:-}" in
    up|down|logs|status|clean) "$1" ;;
    *) die "usage: scripts/stack.sh up|down|logs|status|clean" ;;
esac
