# Stand-in for python:3.13-slim where no image registry answers (see stand-ins.sh):
# Debian trixie's Python 3.13, with `python` and `pip` on the PATH.
FROM celery-memo-stand-in/debian:trixie
LABEL celery-memo.stand-in="python:3.13-slim from Debian trixie's python3"
# As in the official image, `pip install` as root installs system-wide (into /usr/local).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv python-is-python3 \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
# pip trusts the CA bundle the base image took from the host (the network may inspect TLS).
ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
