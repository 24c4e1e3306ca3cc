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

require_secrets() {
  # A placeholder secret would let anyone who read .env.example sign execution-API tokens.
  local secret="${AIRFLOW__API_AUTH__JWT_SECRET:-}"
  if [[ -z "$secret" || "$secret" == *change-me* ]]; then
    log "请在 docker/.env 中设置 AIRFLOW__API_AUTH__JWT_SECRET / set AIRFLOW__API_AUTH__JWT_SECRET in docker/.env (e.g. openssl rand -hex 32)"
    exit 1
  fi
}

: "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:?AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is not set}"

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
