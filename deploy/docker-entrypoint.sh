#!/bin/sh
# Entry point of the Python image. Compose secrets mounted as /run/secrets/insight_<name> become
# the setting INSIGHT_<NAME> (insight_jwt_secret -> INSIGHT_JWT_SECRET), so secret values never
# appear in docker-compose.yml or `docker inspect`. A variable already set in the environment wins.
# A secret file still holding the REPLACE-ME placeholder stops the container with a clear message.
set -eu
secrets_dir="${SECRETS_DIR:-/run/secrets}"
for file in "$secrets_dir"/insight_*; do
  [ -f "$file" ] || continue
  name=$(basename "$file" | tr '[:lower:]-' '[:upper:]_')
  if [ -n "$(printenv "$name" || true)" ]; then
    continue
  fi
  value=$(cat "$file")
  case "$value" in
    REPLACE-ME*)
      echo "$file still holds the placeholder: write a real secret (see README.md ("Running on the scale-out engines"))" >&2
      exit 64
      ;;
  esac
  export "$name=$value"
done
exec "$@"
