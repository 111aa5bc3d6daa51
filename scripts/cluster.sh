#!/usr/bin/env bash
# Three RabbitMQ nodes clustered on this machine, and the tutorial's worker and Flower
# on them with clusterconfig.py's settings (docs/cluster.md).
#
# Usage: scripts/cluster.sh up|down|status|start [N]|kill N|ctl N ARGS...
# With a Docker engine and Compose v2, the cluster is docker-compose.cluster.yml's:
# services rabbitmq1-3 (nodes rabbit@rabbitmq1-3), and the worker and Flower in containers.
#   up       start the nodes, then the worker and Flower (scripts/stack.sh); returns once
#            all of them answer
#   down     stop the worker, Flower and the nodes (their data is kept: clean deletes it)
#   start    boot the three nodes, which form one cluster as they boot; start N boots
#            node N (1, 2 or 3) again, and it rejoins
#   kill N   SIGKILL node N, as a crash would
#   ctl N    rabbitmqctl ARGS on node N, e.g. ctl 2 list_queues name leader
# Settings (environment):
#   CLUSTER             docker or native: choose by hand            (docker if an engine runs)
#   CLUSTER_COMPOSE_FILE  the Compose files, as COMPOSE_FILE       (docker-compose.cluster.yml)
#   CLUSTER_DIR         where the nodes, logs and pid files live  (.run/cluster)
#   CLUSTER_PORTS       the nodes' AMQP ports                      ("5681 5682 5683")
#   CLUSTER_MANAGEMENT  on: a management UI on each node, at its AMQP port + 10000; off
#   FLOWER_PORT         Flower's port                              (5556)
#   CLUSTER_DELIVERY_LIMIT  how often a task may go back to its queue before it is
#                       set aside in celery.dead                    (5)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/settings.sh

die() { echo "cluster: $*" >&2; exit 1; }

dir=$(realpath -m "$(path_setting CLUSTER_DIR .run/cluster)")
read -ra ports <<< "${CLUSTER_PORTS:-5681 5682 5683}"
((${#ports[@]} == 3)) || die "CLUSTER_PORTS must be three ports, not $(shown "${CLUSTER_PORTS:-}")"
for i in 0 1 2; do ports[i]=$(CLUSTER_PORT=${ports[i]} port_setting CLUSTER_PORT 0); done
case ${CLUSTER_MANAGEMENT:-on} in on|off) ;; *) die "CLUSTER_MANAGEMENT must be on or off, not $(shown "$CLUSTER_MANAGEMENT")" ;; esac
flower_port=$(port_setting FLOWER_PORT 5556)
delivery_limit=${CLUSTER_DELIVERY_LIMIT:-5}
[[ $delivery_limit =~ ^[1-9][0-9]*$ ]] || die "CLUSTER_DELIVERY_LIMIT must be a whole number above 0, not $(shown "$delivery_limit")"
case ${CLUSTER:-} in
    docker|native) kind=$CLUSTER ;;
    "") if compose_available; then kind=docker; else kind=native; fi ;;
    *) die "CLUSTER must be docker or native, not $(shown "$CLUSTER")" ;;
esac
# The nodes' names carry the first port, so that two clusters on one machine never meet.
name=celery-memo-${ports[0]}

# scripts/rabbitmq.sh's settings for node N.
node() {
    local n=$1 port=${ports[$1 - 1]} peers="" i
    for i in 1 2 3; do
        peers+="\\ncluster_formation.classic_config.nodes.$i = $name-$i@localhost"
    done
    export RABBITMQ_DIR="$dir/rabbitmq$n" RABBITMQ_NODE="$name-$n" RABBITMQ_PORT="$port"
    if [ "${CLUSTER_MANAGEMENT:-on}" = on ]; then
        export RABBITMQ_MANAGEMENT_PORT=$((port + 10000))
    else
        export RABBITMQ_MANAGEMENT_PORT=off
    fi
    # Each node finds the others in this list as it boots; the first to boot waits
    # 1 s for the others (10 tries, 0.1 s apart), then forms the cluster they join.
    export RABBITMQ_EXTRA_CONFIG="cluster_formation.peer_discovery_backend = classic_config$peers
cluster_formation.discovery_retry_limit = 10
cluster_formation.discovery_retry_interval = 100"
}

rabbitmq() { (node "$1" && shift && scripts/rabbitmq.sh "$@"); }

urls() {
    local port
    for port in "${ports[@]}"; do printf 'pyamqp://guest@localhost:%s//\n' "$port"; done
}

# The worker and Flower: the tutorial's stack (scripts/stack.sh), beside the cluster.
stack() {
    # The worker lists the nodes in an order of its own, as clusterconfig.py would.
    STACK=existing STACK_DIR="$dir" FLOWER_PORT="$flower_port" \
        CELERY_CONFIG_MODULE=clusterconfig CELERY_BROKER_URL="$(urls | shuf | paste -sd ';')" \
        FLOWER_BROKER_API="http://guest:guest@localhost:$((ports[0] + 10000))/api/" \
        scripts/stack.sh "$@"
}

start_nodes() {
    local pids=() i status=0
    for i in 1 2 3; do rabbitmq "$i" start > /dev/null & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || status=1; done
    ((status == 0)) || die "a node did not start; see above, and the logs in $dir"
    # Each node opens its AMQP port once it has joined: the cluster is whole (one VM to ask).
    rabbitmq 1 ctl await_online_nodes 3 > /dev/null || die "the nodes did not form one cluster; their logs are in $dir"
    # A task delivered more than delivery_limit times (one that kills its worker each
    # time, say) goes to the queue celery.dead (the worker declares it: cluster.py), not
    # back for ever.
    # A policy, not queue arguments: it can change without deleting the queue.
    rabbitmq 1 ctl set_policy --apply-to queues poison-tasks '^celery$' \
        "{\"delivery-limit\": $delivery_limit, \"dead-letter-exchange\": \"\", \"dead-letter-routing-key\": \"celery.dead\"}" > /dev/null
}

up() {
    start_nodes
    stack up > /dev/null
    summary
}

summary() {
    local client="" management="management UI http://localhost:$((ports[0] + 10000)) (guest / guest)"
    local nodes="$name-1, -2 and -3@localhost" log="log: $dir/worker.log"
    if [ "$kind" = docker ]; then
        nodes="rabbit@rabbitmq1, 2 and 3, on Docker"
        log="log: docker compose -f docker-compose.cluster.yml logs worker"
    elif [ "${CLUSTER_MANAGEMENT:-on}" != on ]; then
        management="no management UI (CLUSTER_MANAGEMENT=off)"
    fi
    [ "${ports[*]}" = "5681 5682 5683" ] ||
        client="  \$ export CELERY_BROKER_URL='$(urls | paste -sd ';')'"$'\n'
    cat <<EOF

The cluster is up (3 nodes: $nodes):
  RabbitMQ    amqp://localhost:${ports[0]}, :${ports[1]} and :${ports[2]}    $management
  worker      concurrency 1, ADD_SLEEP=${ADD_SLEEP:-60}s    $log
  Flower      http://localhost:$flower_port

Next: open a Python REPL at the repo root (.venv/bin/python) with the cluster's settings
  \$ export CELERY_CONFIG_MODULE=clusterconfig
$client  >>> from tasks import add
  >>> result = add.delay(2, 3)
EOF
}

down() {
    [ -d "$dir" ] || return 0
    stack down
    local pids=() i
    for i in 1 2 3; do rabbitmq "$i" stop & pids+=($!); done
    wait "${pids[@]}"
}

status() {
    local i
    for i in 1 2 3; do rabbitmq "$i" status || true; done
}

kill_node() {
    local pid
    pid=$(rabbitmq "$1" pid) || die "node $1 is not running"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    echo "cluster: node $1 killed (pid $pid)"
}

# The cluster on Docker: docker-compose.cluster.yml, on this cluster's ports.
compose() {
    COMPOSE_FILE=$compose_file \
        CLUSTER_PORT_1=${ports[0]} CLUSTER_PORT_2=${ports[1]} CLUSTER_PORT_3=${ports[2]} \
        CLUSTER_MANAGEMENT_PORT_1=$((ports[0] + 10000)) CLUSTER_MANAGEMENT_PORT_2=$((ports[1] + 10000)) \
        CLUSTER_MANAGEMENT_PORT_3=$((ports[2] + 10000)) FLOWER_PORT=$flower_port \
        CLUSTER_DELIVERY_LIMIT=$delivery_limit docker compose "$@"
}

docker_ctl() { compose exec -T "rabbitmq$1" rabbitmqctl "${@:2}"; }

# Node N answers inside its container (the published port answers as soon as the
# container runs: Docker's proxy holds it). One `exec` tries every 0.1 s for 30 s: an
# `exec` for each try would cost a tenth of a second of CPU, taken from the booting node.
docker_wait_for() {
    local try=': 2>/dev/null 3<>/dev/tcp/127.0.0.1/5672'
    compose exec -T "rabbitmq$1" bash -c "for _ in {1..300}; do $try && exit; sleep 0.1; done; exit 1" ||
    die "node $1 did not answer; see: docker compose -f docker-compose.cluster.yml logs rabbitmq$1"
}

docker_start() {
    if [ -n "${1:-}" ]; then
        # As natively: the node opens its AMQP port once it has booted and rejoined. (Not
        # await_online_nodes 3: with two nodes down, the first one back would wait for ever.)
        compose start "rabbitmq$1" > /dev/null
        docker_wait_for "$1"
    else
        compose up -d --wait rabbitmq1 rabbitmq2 rabbitmq3 2> /dev/null ||
            die "a node did not start; see: docker compose -f docker-compose.cluster.yml logs"
        compose run --rm policy > /dev/null
        docker_ctl 1 await_online_nodes 3 --quiet > /dev/null || die "the nodes did not form one cluster"
    fi
}

docker_up() {
    compose up -d --wait 2> /dev/null ||
        die "the cluster did not come up; see: docker compose -f docker-compose.cluster.yml logs"
    summary
}

docker_kill() {
    compose kill "rabbitmq$1" 2> /dev/null
    echo "cluster: node $1 killed (docker compose kill rabbitmq$1)"
}

number() { [[ ${1:-} =~ ^[123]$ ]] || die "which node: 1, 2 or 3, not $(shown "${1:-}")"; }

if [ "$kind" = docker ]; then
    # On Engine 25+, healthchecks run every second while a service starts: `up` returns sooner.
    compose_file=$(compose_files "${CLUSTER_COMPOSE_FILE:-docker-compose.cluster.yml}" \
        scripts/compose.cluster.start-interval.yml rabbitmq1)
    case "${1:-}" in
        up) docker_up ;;
        down) compose down 2> /dev/null ;;
        status) compose ps --all ;;
        kill) number "${2:-}"; docker_kill "$2" ;;
        ctl) number "${2:-}"; docker_ctl "$2" "${@:3}" ;;
        start) [ -z "${2:-}" ] || number "$2"; docker_start "${2:-}" ;;
        *) die "usage: scripts/cluster.sh up|down|status|start [N]|kill N|ctl N ARGS..." ;;
    esac
    exit
fi
case "${1:-}" in
    up|down|status) "$1" ;;
    kill) number "${2:-}"; kill_node "$2" ;;
    ctl) number "${2:-}"; rabbitmq "$2" ctl "${@:3}" ;;
    start) if [ -z "${2:-}" ]; then start_nodes; else number "$2"; rabbitmq "$2" start; fi ;;
    *) die "usage: scripts/cluster.sh up|down|status|start [N]|kill N|ctl N ARGS..." ;;
esac
