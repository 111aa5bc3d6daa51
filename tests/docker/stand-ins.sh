#!/usr/bin/env bash
# Usage: tests/docker/stand-ins.sh IMAGE...
# Makes sure the tests can run each image docker-compose.yml names: the image itself when
# the engine has it or a registry gives it; else (no registry answers, as on CI here) a
# stand-in built from Debian trixie's packages on a base system made with debootstrap.
# A stand-in is named celery-memo-stand-in/IMAGE, never IMAGE: only the tests' Compose
# override runs it, never a user's `make up`. Prints "IMAGE STAND-IN" for each stand-in.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=celery-memo-stand-in/debian:trixie
cache=/var/cache/celery-memo-stand-in  # debootstrap's downloads and log, out of the repo
die() { echo "stand-ins: $*" >&2; exit 1; }

# The Dockerfile standing in for an image, the Debian package it is made of, and the
# files the Dockerfile copies (in this directory, or in scripts/ as the context "scripts").
recipe() {
  case $1 in
    rabbitmq:4.3-management) echo rabbitmq.Dockerfile rabbitmq-server rabbitmq.conf ../../scripts/rabbitmq-apps.sh ;;
    python:3.13-slim) echo python.Dockerfile python3 ;;
    *) return 1 ;;
  esac
}

# A minimal Debian trixie as an image, made once and shared by the stand-ins.
build_base() {
  docker image inspect "$base" >/dev/null 2>&1 && return
  command -v debootstrap >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  root=$(mktemp -d /var/tmp/stand-in-root.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$cache/debs"
  debootstrap --variant=minbase --cache-dir="$cache/debs" trixie "$root" http://deb.debian.org/debian \
    >"$cache/debootstrap.log" 2>&1 || die "debootstrap failed; see $cache/debootstrap.log"
  # The host's CAs, so that pip inside trusts a TLS-inspecting network. The copy in
  # /usr/local/share/ca-certificates survives update-ca-certificates, which rewrites the bundle.
  mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/host-bundle.crt"
  # As in Debian's official images: packages start no services, and keep no .deb files.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "false";' >"$root/etc/apt/apt.conf.d/docker-clean"
  rm -f "$root"/var/cache/apt/archives/*.deb
  # An imported image has no PATH of its own: give it the usual one.
  tar -C "$root" -c . | docker import - "$base" >/dev/null \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]'
  rm -rf "$root"
  trap - EXIT
}

(($#)) || die "usage: $0 IMAGE..."
for image; do recipe "$image" >/dev/null || die "no stand-in for $image"; done

labels='{{index .Config.Labels "celery-memo.stand-in"}}|{{index .Config.Labels "celery-memo.recipe"}}'
# Names a user runs, on images made from stand-ins, as earlier versions of the tests left
# them (celery-memo-python too: built FROM a stand-in, it inherits the label). Kept under
# the stand-in's name, where a build is kept.
while read -r name; do
  [[ $name == celery-memo-stand-in/* ]] && continue
  docker image inspect "celery-memo-stand-in/$name" >/dev/null 2>&1 ||
    docker tag "$name" "celery-memo-stand-in/$name"
  docker image rm "$name" >/dev/null ||
    die "$name was made from a stand-in, and a container uses it: docker rm that container"
  echo "stand-ins: $name was made from a stand-in; the tests name it celery-memo-stand-in/$name" >&2
done < <(docker images --filter label=celery-memo.stand-in --filter dangling=false \
           --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>')

for image; do
  stand_in=celery-memo-stand-in/$image
  read -ra parts < <(recipe "$image")
  dockerfile=${parts[0]} package=${parts[1]}
  # The image itself (a stand-in never keeps its name: see above).
  if docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  # What the stand-in is built from, as a label on it: a changed recipe means a new build.
  sum=$(cd "$here" && cat "$dockerfile" "${parts[@]:2}" | sha256sum | cut -c1-16)
  if docker image inspect "$stand_in" >/dev/null 2>&1; then
    IFS='|' read -r label built < <(docker image inspect -f "$labels" "$stand_in")
    if [ "$built" = "$sum" ]; then
      # Said on every run, not only the one that built it.
      echo "stand-ins: the tests use a stand-in, $stand_in: $label" >&2
      echo "$image $stand_in"
      continue
    fi
    why="its recipe changed"
  # Bounded: where no registry is reachable the pull fails at once, but a slow one may hang.
  elif timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
    continue
  else
    why="no registry"
  fi
  build_base
  build=(docker build -q -t "$stand_in" --label "celery-memo.recipe=$sum"
         --build-context "scripts=$here/../../scripts" -f "$here/$dockerfile" "$here")
  "${build[@]}" >/dev/null || die "building a stand-in for $image failed (rerun: ${build[*]})"
  version=$(docker run --rm --user root --entrypoint dpkg-query "$stand_in" -W -f '${Version}' "$package")
  echo "stand-ins: $why for $image; built $stand_in from Debian trixie's $package ${version%-*}" >&2
  echo "$image $stand_in"
done
