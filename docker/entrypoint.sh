#!/usr/bin/env bash
# Entrypoint of every edustat container: wait for what the component needs, then exec it.
#   init                 migrate the Airflow metadata DB and bootstrap the warehouse (once,
#                        the airflow-init service; the other services start after it succeeded)
#   <airflow subcommand> e.g. api-server, scheduler, dag-processor, triggerer, "celery worker"
#   anything else        exec'd as is (edustat status, psql, bash ...)
set -euo pipefail

WAIT_SECONDS="${EDUSTAT_WAIT_SECONDS:-120}"

log() { printf '%s edustat-entrypoint: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# pg_isready takes a libpq URI; SQLAlchemy URLs carry a driver (postgresql+psycopg2://).
libpq_uri() { local url="$1"; printf '%s' "postgresql://${url#*://}"; }

wait_for_postgres() {
  local label="$1" uri
  uri="$(libpq_uri "$2")"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until pg_isready --quiet --dbname="$uri"; do
    if ((SECONDS >= deadline)); then
      log "数据库 ${label} ${WAIT_SECONDS} 秒内未就绪 / database ${label} not ready in ${WAIT_SECONDS}s"
      exit 1
    fi
    sleep 2
  done
  log "${label} ready"
}

# Every secret of the deployment: none may be empty or still docker/.env.example's change-me
# (anyone who read the example could sign API tokens, decrypt connections or log in).
SECRETS="AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__CORE__FERNET_KEY AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
AIRFLOW__CELERY__RESULT_BACKEND EDUSTAT_WAREHOUSE_DSN EDUSTAT_ADMIN_PASSWORD"

require_secrets() {
  # shellcheck disable=SC2086  # one word per variable name
  "$(dirname "$0")/require-secrets.sh" $SECRETS
}

case "${1:-}" in
  init)
    require_secrets
    wait_for_postgres airflow-db "$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
    : "${EDUSTAT_WAREHOUSE_DSN:?EDUSTAT_WAREHOUSE_DSN is not set}"
    wait_for_postgres warehouse "$EDUSTAT_WAREHOUSE_DSN"
    mkdir -p "${EDUSTAT_HOME:?}/landing" "${AIRFLOW_HOME:?}/logs"
    log "airflow db migrate"
    airflow db migrate
    log "warehouse bootstrap (schemas, ops/raw tables, roles)"
    python -c 'import os; from edustat.warehouse.bootstrap import bootstrap; bootstrap(os.environ["EDUSTAT_WAREHOUSE_DSN"])'
    # The UI's first administrator (FAB auth manager: users and roles in the metadata DB).
    # More users: `airflow users create` in any container. A later password change in .env
    # does not reset an existing user: `airflow users reset-password` does.
    if airflow users list --output plain 2>/dev/null | awk '{print $2}' | grep -qx "${EDUSTAT_ADMIN_USER:-admin}"; then
      log "admin user ${EDUSTAT_ADMIN_USER:-admin} exists"
    else
      log "creating admin user ${EDUSTAT_ADMIN_USER:-admin}"
      airflow users create --username "${EDUSTAT_ADMIN_USER:-admin}" --role Admin \
        --firstname edustat --lastname admin --email "${EDUSTAT_ADMIN_EMAIL:-admin@localhost}" \
        --password "$EDUSTAT_ADMIN_PASSWORD" >/dev/null
    fi
    log "init done"
    ;;
  api-server | scheduler | dag-processor | triggerer | celery)
    require_secrets
    wait_for_postgres airflow-db "$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
    exec airflow "$@"
    ;;
  "")
    log "usage: init | api-server | scheduler | dag-processor | triggerer | celery worker | <command>"
    exit 2
    ;;
  *)
    exec "$@"
    ;;
esac
