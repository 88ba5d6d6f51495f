# Sourced by scripts/prod-up, scripts/backup and scripts/restore: the production
# environment. Variables already set win; then ENV_FILE (default ./.env), KEY=value lines
# in django-environ's format (no shell quoting). DJANGO_SETTINGS_MODULE is the prod one.
ENV_FILE="${ENV_FILE:-$PWD/.env}"
export ENV_FILE DJANGO_SETTINGS_MODULE=config.settings.prod
if [ -f "$ENV_FILE" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key="${line%%=*}"; value="${line#*=}"
    key="${key// /}"
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    [ -n "${!key+x}" ] || export "$key=$value"
  done <"$ENV_FILE"
fi
# pg_dump / pg_restore / psql of the server's major version
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PY="${PY:-.venv/bin/python}"
# MEDIA_ROOT and PRIVATE_MEDIA_ROOT as the settings resolve them (defaults included)
media_roots() {
  "$PY" -c 'from django.conf import settings; import django; django.setup(); print(settings.MEDIA_ROOT); print(settings.PRIVATE_MEDIA_ROOT)'
}
