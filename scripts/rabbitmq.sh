#!/usr/bin/env bash
# A private RabbitMQ node, from the OS packages (installed when missing).
#
# Usage: scripts/rabbitmq.sh install|start|stop|status|pid|ctl RABBITMQCTL-ARGS...
#
# Its data, config, logs and pid file live in one directory, so `stop` stops
# exactly this node and deleting the directory forgets it. Every port it opens
# is bound to 127.0.0.1. Settings come from the environment:
#   RABBITMQ_DIR              where the node lives      (.run/rabbitmq)
#   RABBITMQ_NODE             its Erlang node name      (celery-memo)
#   RABBITMQ_PORT             AMQP port                 (5672)
#   RABBITMQ_MANAGEMENT_PORT  management UI port        (8080; "off": no UI)
#   RABBITMQ_EXTRA_CONFIG     more rabbitmq.conf lines  (none)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/settings.sh

die() { echo "rabbitmq: $*" >&2; exit 1; }

dir=$(path_setting RABBITMQ_DIR .run/rabbitmq)
dir=$(realpath -m "$dir")
node="$(name_setting RABBITMQ_NODE celery-memo)@localhost"
port=$(port_setting RABBITMQ_PORT 5672)
management_port=$(port_setting RABBITMQ_MANAGEMENT_PORT 8080 off)
((port <= 45535)) || die "RABBITMQ_PORT must be at most 45535 (the node's Erlang port is 20000 above it), not $port"
bin=/usr/lib/rabbitmq/bin

installed() { [ -x "$bin/rabbitmq-server" ]; }

install() {
    installed && return
    scripts/os-packages.sh rabbitmq-server
}

# The node reads only what is set here, never /etc/rabbitmq.
export RABBITMQ_NODENAME="$node"
export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
export RABBITMQ_PLUGINS_DIR="$dir/plugins"
export RABBITMQ_MNESIA_BASE="$dir/mnesia"
export RABBITMQ_LOG_BASE="$dir/log"
export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
export ERL_CRASH_DUMP="$dir/log/erl_crash.dump"  # not in the current directory
export RABBITMQ_DIST_PORT=$((port + 20000))
# Erlang's own ports (epmd and node distribution) would listen on every interface.
export ERL_EPMD_ADDRESS=127.0.0.1
# +sbwt none...: Erlang's schedulers spin for a while before they sleep, to answer
# sooner; on a desktop, beside a worker, Flower and everything else, that spinning takes
# CPU they need (https://www.rabbitmq.com/docs/runtime#busy-waiting).
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"

# Only the applications the node runs, for a boot at half the CPU (see rabbitmq-apps.sh).
link_plugins() {
    rm -rf "$RABBITMQ_PLUGINS_DIR"
    mkdir -p "$RABBITMQ_PLUGINS_DIR"
    scripts/rabbitmq-apps.sh "$@" | xargs -r ln -s -t "$RABBITMQ_PLUGINS_DIR"
}

# The node's pid, if its pid file's process is still this node: a node that was killed
# leaves its pid file, and pids come round again within minutes on a busy machine.
pid() {
    local pid
    pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] &&
        tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ" | grep -qxF "RABBITMQ_PID_FILE=$RABBITMQ_PID_FILE" &&
        echo "$pid"
}

running() { pid > /dev/null; }

start() {
    if running; then
        echo "rabbitmq: node $node already running (amqp://localhost:$port)"
        return
    fi
    for p in "$port" "$management_port"; do
        [ "$p" != off ] && port_taken "$p" && die "port $p is already in use; stop what holds it, or set RABBITMQ_PORT / RABBITMQ_MANAGEMENT_PORT"
    done
    install
    mkdir -p "$dir/log"
    : > "$RABBITMQ_CONF_ENV_FILE"
    printf 'listeners.tcp.default = 127.0.0.1:%s\n%b\n' "$port" "${RABBITMQ_EXTRA_CONFIG:-}" \
        > "$RABBITMQ_CONFIG_FILE"
    if [ "$management_port" = off ]; then
        echo "[]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
        link_plugins rabbit
    else
        echo "[rabbitmq_management]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
        link_plugins rabbit rabbitmq_management
        printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$management_port" \
            >> "$RABBITMQ_CONFIG_FILE"
    fi
    nohup "$bin/rabbitmq-server" > "$dir/log/startup.log" 2>&1 &
    local server=$! started=""
    # The node opens its AMQP port last, once it has booted. (`rabbitmqctl wait`
    # would start a second Erlang VM to ask: a second of CPU.)
    for _ in $(seq 600); do
        port_taken "$port" && started=yes && break
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$started" ]; then
        tail -n 20 "$dir/log/startup.log" >&2
        die "node $node did not start; its log is in $dir/log"
    fi
    echo "rabbitmq: node $node running (amqp://localhost:$port, management UI: $management_port)"
}

stop() {
    local pid
    if pid=$(pid); then
        # SIGTERM stops the node cleanly, as `docker stop` does, without starting a
        # second Erlang VM for rabbitmqctl (a second of CPU).
        kill -TERM "$pid"
        for _ in $(seq 600); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        running && die "node $node did not stop within 60 s (pid $pid); its log is in $dir/log"
        echo "rabbitmq: node $node stopped"
    fi
    # epmd outlives the node; stop it once no Erlang node is registered with it. (It
    # forgets this node a moment after the node exits: wait for that, 3 s at most.)
    command -v epmd >/dev/null || return 0
    for _ in $(seq 30); do
        epmd -names 2>/dev/null | grep -q "^name ${node%@*} " || break
        sleep 0.1
    done
    if ! epmd -names 2>/dev/null | grep -q '^name '; then
        epmd -kill >/dev/null 2>&1 || true
    fi
}

status() {
    if running; then echo "rabbitmq: node $node running (amqp://localhost:$port)"; else echo "rabbitmq: node $node not running"; return 3; fi
}

ctl() { "$bin/rabbitmqctl" -q "$@"; }

case "${1:-}" in
    install|start|stop|status|pid|ctl) "$@" ;;
    *) die "usage: scripts/rabbitmq.sh install|start|stop|status|pid|ctl ARGS..." ;;
esac
