# Stand-in for rabbitmq:4.3-management where no image registry answers (see stand-ins.sh):
# Debian trixie's RabbitMQ, set up as the official image is.
FROM celery-memo-stand-in/debian:trixie
LABEL celery-memo.stand-in="rabbitmq:4.3-management from Debian trixie's rabbitmq-server"
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/*
COPY rabbitmq.conf /etc/rabbitmq/conf.d/10-defaults.conf
# No cookie in the image: the node makes its own in $HOME, on the data volume, as the official one does.
RUN rabbitmq-plugins enable --offline rabbitmq_management \
 && rm -f /var/lib/rabbitmq/.erlang.cookie /root/.erlang.cookie
# Only the plugins the node runs stay (scripts/rabbitmq-apps.sh): a boot takes 2 s less.
# (The official image keeps them all; nothing here enables another.)
COPY --from=scripts rabbitmq-apps.sh /usr/local/bin/
RUN cd /usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins \
 && rabbitmq-apps.sh rabbit rabbitmq_management > /tmp/keep \
 && for app in */; do grep -qx "$PWD/${app%/}" /tmp/keep || rm -r "$app"; done \
 && rm /tmp/keep /usr/local/bin/rabbitmq-apps.sh
# PATH: RabbitMQ's own scripts, not Debian's wrappers in /usr/sbin, which send the server's
# output to a file instead of `docker logs` and keep a shell as PID 1 that ignores `docker stop`.
# HOME: where rabbitmq-diagnostics, run by `docker exec`, finds the cookie.
# RUNNING_UNDER_SYSTEMD: rabbitmq-server execs the Erlang VM in the foreground, as in the official image.
# RabbitMQ itself reads RABBITMQ_DEFAULT_USER/_PASS on a fresh data directory.
ENV PATH=/usr/lib/rabbitmq/bin:$PATH HOME=/var/lib/rabbitmq LANG=C.UTF-8 LC_ALL=C.UTF-8 RUNNING_UNDER_SYSTEMD=true
USER rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672 15672
CMD ["rabbitmq-server"]
