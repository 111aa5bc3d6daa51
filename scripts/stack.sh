#!/usr/bin/env bash
# The tutorial's stack: RabbitMQ, one worker (concurrency 1) and Flower.
#
# Usage: scripts/stack.sh up|down|logs|status|clean
#
# `up` takes the first of: the stack it started before; a RabbitMQ that already
# answers at CELERY_BROKER_URL (then only the worker and Flower start, beside it);
# docker-compose.yml, when a Docker engine runs; a private RabbitMQ node from
# scripts/rabbitmq.sh. Natively the worker runs under `celery multi` and Flower
# beside it, each with its log and pid file in the run directory. `down` stops
# only what `up` started and keeps Flower's saved state; `clean` deletes it.
# Settings (environment):
#   STACK          docker, native or existing: choose by hand
#   STACK_DIR      the run directory (.run)
#   FLOWER_PORT    Flower's port (5555)
#   STACK_STOP_TIMEOUT  seconds `down` waits for the worker to finish its task (90)
#   RABBITMQ_PORT, RABBITMQ_MANAGEMENT_PORT  as in scripts/rabbitmq.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/settings.sh

run=$(path_setting STACK_DIR .run)
port=$(port_setting RABBITMQ_PORT 5672)
management_port=$(port_setting RABBITMQ_MANAGEMENT_PORT 8080 off)
flower_port=$(port_setting FLOWER_PORT 5555)
stop_timeout=$(seconds_setting STACK_STOP_TIMEOUT 90)  # longer than add()'s 60 s
export RABBITMQ_DIR="${RABBITMQ_DIR:-$run/rabbitmq}" RABBITMQ_PORT="$port"
export RABBITMQ_MANAGEMENT_PORT="$management_port" FLOWER_PORT="$flower_port"
python=.venv/bin/python
celery=.venv/bin/celery
# celery multi names the worker after the host as Python sees it.
worker="worker@$("$python" -c 'import socket; print(socket.gethostname())' 2>/dev/null || hostname)"

die() { echo "stack: $*" >&2; exit 1; }

# Compose's broker user comes from the environment, else from .env.
compose_user=${RABBITMQ_USER:-$(sed -n 's/^RABBITMQ_USER=//p' .env)}
compose_password=${RABBITMQ_PASSWORD:-$(sed -n 's/^RABBITMQ_PASSWORD=//p' .env)}

compose() { docker compose "$@"; }

compose_running() {
    docker info >/dev/null 2>&1 && [ -n "$(compose ps -q --status running rabbitmq 2>/dev/null)" ]
}

node_running() { scripts/rabbitmq.sh status >/dev/null 2>&1; }

# Which stack runs now: the one `up` recorded, or one found running.
current() {
    if [ -f "$run/stack" ]; then cat "$run/stack"
    elif compose_running; then echo docker
    elif node_running; then echo native
    fi
}

# The stack `up` started before, if it still runs.
still_up() {
    case $(current) in
        docker) compose_running && echo docker ;;
        native) node_running && echo native ;;
        existing) worker_pid >/dev/null && echo existing ;;
    esac
}

# Compose would stop half-way on a port in use: say so first, in one line.
ports_free() {
    local p
    for p in "$@"; do
        if port_taken "$p"; then
            die "port $p is already in use; stop what holds it, or set RABBITMQ_PORT, RABBITMQ_MANAGEMENT_PORT or FLOWER_PORT"
        fi
    done
}

# A URL without its passwords, to print (a;b is a list of URLs to fail over).
hide_password() { sed -E 's#(://[^:@/;]*):[^@/;]*@#\1:**@#g' <<< "$1"; }

broker_url() {
    if [ -n "${CELERY_BROKER_URL:-}" ]; then echo "$CELERY_BROKER_URL"
    elif [ "$1" = docker ]; then echo "pyamqp://$compose_user:$compose_password@localhost:$port//"
    else echo "pyamqp://guest@localhost:$port//"
    fi
}

# Exit status 0: a RabbitMQ answers at the URL and lets us in; 3: nothing listens.
broker_check() { CELERY_BROKER_URL=$1 PYTHONPATH=. "$python" scripts/broker-check.py; }

# Which stack to start: a broker already running wins, then Docker, then a node.
choose() {
    case "${STACK:-}" in
        docker|native|existing) echo "$STACK"; return ;;
        "") ;;
        *) die "STACK must be docker, native or existing, not $(shown "$STACK")" ;;
    esac
    local status=0
    broker_check "$(broker_url native)" || status=$?
    case $status in
        0) echo existing ;;
        3) if compose_available; then
               echo docker
           else
               echo native
           fi ;;
        *) exit 1 ;;  # broker-check.py said what is wrong
    esac
}

# The pid in $run/NAME.pid, if that process is still the one the stack started
# (a stale pid file may name a process that has nothing to do with us).
our_pid() {
    local pid
    pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -q -- "$2" || return 1
    echo "$pid"
}

worker_pid() { our_pid worker "celery.* worker .*-n $worker"; }
flower_pid() { our_pid flower "celery -A tasks flower --port=$flower_port"; }

# Stop a process the stack started with SIGTERM (a clean stop); say so if it lingers.
stop_process() {
    local name=$1 pid=$2
    kill -TERM "$pid"
    for _ in $(seq $((stop_timeout * 5))); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$run/$name.pid"; return; }
        sleep 0.2
    done
    die "the $name (pid $pid) is still running after $stop_timeout s, finishing its task; run make down again, or kill $pid (the task goes back to the queue)"
}

start_worker() {
    if worker_pid >/dev/null; then
        echo "stack: the worker is already running; make down first to change its settings (ADD_SLEEP)"
        return
    fi
    # Revoked ids are kept beside the worker's log (see celeryconfig.py).
    CELERY_WORKER_STATE_DB="$run/%n.state" "$celery" multi start worker -A tasks \
        --loglevel=info --concurrency=1 --pidfile="$run/%n.pid" --logfile="$run/%n.log" >/dev/null
}

wait_for_worker() {
    local try
    for try in $(seq 60); do
        "$celery" -A tasks inspect ping -d "$worker" --timeout 1 >/dev/null 2>&1 && return
        # Each ping waits 1 s. `multi start` returns before its detached worker writes
        # its pid file (0.25 s later on an idle machine, more under load): give it time.
        ((try < 5)) || worker_pid >/dev/null || break
    done
    tail -n 20 "$run/worker.log" >&2
    die "the worker did not answer; its log is $run/worker.log"
}

start_flower() {
    flower_pid >/dev/null && return
    # Persistent: what Flower has seen survives a restart (see flowerconfig.py).
    nohup "$celery" -A tasks flower --port="$flower_port" --persistent=True --db="$run/flower" \
        > "$run/flower.log" 2>&1 &
    echo $! > "$run/flower.pid"
}

flower_healthy() {
    "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$flower_port/healthcheck" 2>/dev/null
}

wait_for_flower() {
    for _ in $(seq 100); do
        flower_healthy && return
        flower_pid >/dev/null || break
        sleep 0.2
    done
    tail -n 20 "$run/flower.log" >&2
    die "Flower did not answer; its log is $run/flower.log"
}

up() {
    [ -x "$celery" ] || die "no $celery; run: make install"
    PYTHONPATH=. "$python" scripts/settings-check.py  # says in one line what is wrong
    local stack
    stack=$(still_up) || true
    [ -n "$stack" ] || stack=$(choose)
    mkdir -p "$run"
    # Recorded first: should up stop half-way (the worker dies as it starts, say), down
    # still stops what it had started.
    echo "$stack" > "$run/stack"
    export CELERY_BROKER_URL
    CELERY_BROKER_URL=$(broker_url "$stack")
    case $stack in
        docker)
            [ "$(still_up)" = docker ] || ports_free "$port" "$management_port" "$flower_port"
            # --wait returns once every service's healthcheck passes; --build picks up
            # new pins in requirements.txt (the image is cached otherwise).
            COMPOSE_FILE=$(compose_files "${COMPOSE_FILE:-docker-compose.yml}" \
                scripts/compose.start-interval.yml rabbitmq) compose up -d --wait --build
            ;;
        native|existing)
            if [ "$stack" = native ]; then
                scripts/rabbitmq.sh start
                export FLOWER_BROKER_API="http://guest:guest@localhost:$management_port/api/"
            else
                # Where RabbitMQ's management plugin listens by default, if it is on.
                export FLOWER_BROKER_API="${FLOWER_BROKER_API:-http://guest:guest@localhost:15672/api/}"
                echo "stack: a RabbitMQ already answers at $(hide_password "$CELERY_BROKER_URL"): using it (make down leaves it running)"
            fi
            start_worker
            start_flower
            wait_for_worker
            wait_for_flower
            ;;
    esac
    summary "$stack"
}

summary() {
    local broker="amqp://localhost:$port    management UI http://localhost:$management_port (guest / guest)"
    local client=""
    case $1 in
        existing) broker="the one that was already running, at $(hide_password "$CELERY_BROKER_URL")" ;;
        docker)
            broker="amqp://localhost:$port    management UI http://localhost:$management_port ($compose_user / $compose_password, from .env)"
            [ "$compose_user" = guest ] && [ "$compose_password" = guest ] ||
                client="  \$ export CELERY_BROKER_URL=$CELERY_BROKER_URL"$'\n'
            ;;
    esac
    cat <<EOF

The stack is up ($1):
  RabbitMQ    $broker
  worker      concurrency 1, ADD_SLEEP=${ADD_SLEEP:-60}s    log: make logs
  Flower      http://localhost:$flower_port    log in with FLOWER_BASIC_AUTH (flower / flower unless set)

Next: open a Python REPL at the repo root (.venv/bin/python) and run
${client}  >>> from tasks import add
  >>> result = add.delay(2, 3)
EOF
}

down() {
    local stack pid
    stack=$(current)
    case $stack in
        docker) compose down ;;
        native|existing)
            if pid=$(flower_pid); then stop_process flower "$pid"; fi
            if pid=$(worker_pid); then stop_process worker "$pid"; fi
            if [ "$stack" = native ]; then scripts/rabbitmq.sh stop; fi
            ;;
    esac
    rm -f "$run/stack"
}

logs() {
    if [ "$(current)" = docker ]; then
        compose logs -f worker
    else
        [ -f "$run/worker.log" ] || die "no worker log yet; run: make up"
        tail -n 50 -F "$run/worker.log"
    fi
}

status() {
    local stack
    stack=$(current)
    case $stack in
        "") echo "stack: not running (make up starts it)"; return ;;
        docker) compose ps; return ;;
        existing) echo "rabbitmq: not ours, at $(hide_password "$(broker_url existing)") (make down leaves it running)" ;;
        native) scripts/rabbitmq.sh status || true ;;
    esac
    CELERY_BROKER_URL=$(broker_url "$stack") "$celery" -A tasks status || true
    if flower_healthy; then echo "flower: http://localhost:$flower_port"; else echo "flower: not running"; fi
}

clean() {
    down
    # The named volumes hold RabbitMQ's data and Flower's and the worker's state.
    if docker info >/dev/null 2>&1; then compose down --volumes; fi
    rm -rf "$run"
}

case "${1:-}" in
    up|down|logs|status|clean) "$1" ;;
    *) die "usage: scripts/stack.sh up|down|logs|status|clean" ;;
esac
