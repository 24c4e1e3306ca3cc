#!/bin/sh
# Refuse to start while a secret is empty or still the example's placeholder.
#   require-secrets.sh VAR [VAR ...] [-- command ...]
# Each VAR must be set, non-empty, and contain no "change-me"; a VAR holding a URL (a DSN) is
# checked for its password part too. One line names the first offending variable (never its
# value); exit 1. With `-- command`, exec the command once every secret passed.
# POSIX sh: the postgres images run it before their own entrypoint.
set -eu

refuse() {
  printf '%s edustat: 拒绝启动 refusing to start: %s %s; 请在 docker/.env 中设置 set it in docker/.env (e.g. openssl rand -hex 32)\n' \
    "$(date -u +%FT%TZ)" "$1" "$2" >&2
  exit 1
}

while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  name="$1"
  shift
  eval "value=\${$name:-}"
  case "$value" in
    "") refuse "$name" "is empty / 为空" ;;
    *change-me*) refuse "$name" "still holds the example's change-me placeholder / 仍是示例占位符" ;;
  esac
  case "$value" in
    *://*:@*) refuse "$name" "has an empty password / 密码为空" ;;
    *://*@*) ;;
    postgres*://*) refuse "$name" "has no password / 缺少密码" ;;
  esac
done

if [ "${1:-}" = "--" ]; then
  shift
  exec "$@"
fi
