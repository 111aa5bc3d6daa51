#!/usr/bin/env bash
# CI only (.ci/run): make sure a Docker engine with Compose v2 answers, installing and
# starting one if not. Does nothing when there already is one.
set -euo pipefail

log=/var/log/dockerd.log
die() { echo "docker-engine: $*" >&2; exit 1; }
# Debian's Compose prints "2.26.1-4", Docker's own "v2.x.y"; v1 has no `docker compose` at all.
compose_v2() { [[ $(docker compose version --short 2>/dev/null) =~ ^v?([2-9]|[1-9][0-9]+)\. ]]; }

if docker info >/dev/null 2>&1 && compose_v2; then exit 0; fi
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  die "no Docker engine with Compose v2 here, and installing one needs root and apt-get"
fi

if ! compose_v2; then
  # bookworm's docker-compose is the Python v1 (no --wait): Compose v2 (2.26) comes from
  # trixie, with its engine (26), pinned low so that only the packages named here are
  # ever taken from it. They need libc6 >= 2.34 and take bookworm's containerd and runc,
  # so the rest of the machine stays bookworm. (Bookworm's own engine, 20.10, is what
  # the Docker tests emulate by pinning the client to its API, 1.41.)
  cat >/etc/apt/sources.list.d/trixie.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/trixie
  apt-get update -qq
  # docker-buildx: the builder `docker build` and `docker compose build` use with the
  # engine's own BuildKit.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io/trixie docker-cli/trixie docker-compose/trixie docker-buildx/trixie >/dev/null
  compose_v2 || die "docker compose is still not v2: $(docker compose version 2>&1 | head -1)"
  if pkill -x dockerd; then  # an older engine still runs: let it go first
    for _ in $(seq 100); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
  fi
fi

# No init system runs here, so start the engine by hand. Its defaults work on this kind of
# machine: overlay2 on ext4, cgroupfs on the cgroup v1 mounts, and iptables (nf_tables)
# for the bridge networks' NAT and DNS, and docker-proxy for ports published on 127.0.0.1.
# setsid: in a session of its own, a Ctrl-C that stops the caller does not stop the engine.
if ! pgrep -x dockerd >/dev/null; then
  # /run outlives a session here, and a pid file left by the last one can name a process
  # that now is something else: dockerd then waits on it as its containerd, and times out.
  for pidfile in /run/docker.pid /run/docker/containerd/containerd.pid; do
    pid=$(cat "$pidfile" 2>/dev/null) || continue
    [[ $(ps -o comm= -p "$pid" 2>/dev/null) =~ ^(dockerd|containerd)$ ]] || rm -f "$pidfile"
  done
  setsid nohup dockerd >>"$log" 2>&1 </dev/null &
fi
for _ in $(seq 120); do  # 60 s at most; it usually answers within 2 s
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
  pgrep -x dockerd >/dev/null || break  # it exited: no use waiting
done
tail -n 20 "$log" >&2
die "dockerd is not answering (the end of its log above; all of it in $log)"
