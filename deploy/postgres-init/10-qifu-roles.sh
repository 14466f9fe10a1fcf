#!/bin/sh
# Creates qifu's database `qifu` and its roles qifu_owner and qifu_app (qifu-roles.psql, next to this file)
# as the PostgreSQL superuser, with the passwords from the environment.
#   Compose: mounted into /docker-entrypoint-initdb.d, so the postgres image runs it once, on the first start
#            with an empty data volume (later starts skip it: changing the passwords needs ALTER ROLE).
#   systemd: see docs/deploy.md ("On a server with systemd").
# Arguments are handed to psql (e.g. -v owner=… -v app=… -v db=… for other names).
: "${QIFU_OWNER_PASSWORD:?set QIFU_OWNER_PASSWORD (owner.env)}"
: "${QIFU_APP_PASSWORD:?set QIFU_APP_PASSWORD (owner.env)}"
here=$(dirname "$0")
# the postgres image sources a script that is not executable: then $0 is its entrypoint
[ -f "$here/qifu-roles.psql" ] || here=/docker-entrypoint-initdb.d
psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -f "$here/qifu-roles.psql" "$@"
