#!/bin/sh
# Redis with a password (REDIS_PASSWORD) and append-only persistence on /data, so the
# heartbeat state outlives a restart. The password goes in through a config file that
# only the redis user reads, never on the command line.
set -eu
python3 /usr/local/lib/stack/stack_secrets.py REDIS_PASSWORD
conf=/run/redis/redis.conf
mkdir -p /run/redis && chown redis:redis /run/redis /data
umask 077
cat >"$conf" <<CONF
bind 0.0.0.0
port 6379
protected-mode yes
dir /data
appendonly yes
appendfsync everysec
save ""
requirepass $REDIS_PASSWORD
CONF
chown redis:redis "$conf"
unset REDIS_PASSWORD
exec setpriv --reuid=redis --regid=redis --init-groups redis-server "$conf"
