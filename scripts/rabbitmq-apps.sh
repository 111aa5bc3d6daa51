#!/usr/bin/env bash
# Usage: scripts/rabbitmq-apps.sh APP...
# Prints the directory of each Erlang application a RabbitMQ node needs to run the APPs
# (rabbit, and the plugins it enables): those and what their .app files say they need,
# Erlang's own included, from the OS package's directories, one per line.
#
# A node looks for each module it loads in every directory of its code path, one file
# at a time: with all of the package's 70 plugins there, that is half the CPU of a boot.
# scripts/rabbitmq.sh links only these into its plugins directory; the Docker stand-in
# for RabbitMQ's image (tests/docker) deletes the others.
set -euo pipefail
shopt -s nullglob

declare -A seen=()
todo=("$@")
while ((${#todo[@]})); do
    app=${todo[0]} todo=("${todo[@]:1}")
    [ -n "${seen[$app]:-}" ] && continue
    seen[$app]=1
    found=(/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/"$app"-[0-9]* /usr/lib/erlang/lib/"$app"-[0-9]*)
    ((${#found[@]})) || continue  # still found on the package's own path, only slower
    echo "${found[-1]}"
    text=$(<"${found[-1]}/ebin/$app.app")
    [[ $text =~ \{applications,[[:space:]]*\[([^]]*)\] ]] || continue
    needs=${BASH_REMATCH[1]//[[:space:]\']/}
    IFS=, read -ra needs <<< "$needs"
    todo+=("${needs[@]}")
done
