# Settings from the environment, checked before any of them reaches a command,
# arithmetic or a config file, and whether a port is taken. Sourced by the other scripts.

# port_taken PORT: something on this machine accepts connections on it.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A value as it would be typed, on one line.
shown() { printf "%q" "$1"; }

# port_setting NAME DEFAULT [WORD]: $NAME as a TCP port number (or WORD, if given).
port_setting() {
    local value=${!1:-$2}
    if [ -n "${3:-}" ] && [ "$value" = "$3" ]; then echo "$value"; return; fi
    if [[ ! $value =~ ^[0-9]{1,5}$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
        echo "${0##*/}: $1 must be a port number from 1 to 65535${3:+ or $3}, not $(shown "$value")" >&2
        exit 1
    fi
    echo "$((10#$value))"
}

# path_setting NAME DEFAULT: $NAME as a path of plain characters (RabbitMQ's
# scripts and config files take no quoting).
path_setting() {
    local value=${!1:-$2}
    if [[ ! $value =~ ^[A-Za-z0-9._/+@-]+$ ]]; then
        echo "${0##*/}: $1 must be a path of letters, digits and ._/+@-, not $(shown "$value")" >&2
        exit 1
    fi
    echo "$value"
}

# name_setting NAME DEFAULT: $NAME as a name of letters, digits, _ and - (an Erlang node's).
name_setting() {
    local value=${!1:-$2}
    if [[ ! $value =~ ^[A-Za-z0-9_-]+$ ]]; then
        echo "${0##*/}: $1 must be a name of letters, digits, _ and -, not $(shown "$value")" >&2
        exit 1
    fi
    echo "$value"
}

# seconds_setting NAME DEFAULT: $NAME as whole seconds.
seconds_setting() {
    local value=${!1:-$2}
    if [[ ! $value =~ ^[0-9]{1,4}$ ]]; then
        echo "${0##*/}: $1 must be whole seconds, not $(shown "$value")" >&2
        exit 1
    fi
    echo "$((10#$value))"
}

# A Docker engine answers, and Compose v2 is there to drive it.
compose_available() { docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }

# compose_files FILES MORE SERVICE: the files `up` gives Compose: FILES, and where the
# engine takes healthchecks' start_interval (API 1.44, Engine 25), MORE, which sets it.
# A stack already running (SERVICE's container) keeps its healthchecks: others would
# recreate its containers.
compose_files() {
    local files=$1 more=$2 container api
    container=$(COMPOSE_FILE=$files docker compose ps -q "$3" 2>/dev/null | head -n 1)
    if [ -n "$container" ]; then
        [ "$(docker inspect -f '{{.Config.Healthcheck.StartInterval}}' "$container")" = 0s ] ||
            files+=:$more
    else
        api=$(docker version -f '{{.Client.APIVersion}}' 2>/dev/null) || api=0
        if printf '1.44\n%s\n' "$api" | sort -V -C; then files+=:$more; fi
    fi
    echo "$files"
}
