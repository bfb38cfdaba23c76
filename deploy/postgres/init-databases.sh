#!/bin/sh
# Runs once, when the postgres container starts on an empty data volume
# (/docker-entrypoint-initdb.d): one role and one database per service, each owning its own.
# Changing a password in .env later does not change it here; use ALTER ROLE … PASSWORD.
set -eu

# psql variables (:'name') quote the passwords, whatever characters they hold.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" \
  -v keycloak_password="$KEYCLOAK_DB_PASSWORD" \
  -v litellm_password="$LITELLM_DB_PASSWORD" <<'SQL'
-- The API key service: its migrations run at start and create its tables.
CREATE ROLE api_keys LOGIN PASSWORD :'app_password';
CREATE DATABASE api_keys OWNER api_keys;

CREATE ROLE keycloak LOGIN PASSWORD :'keycloak_password';
CREATE DATABASE keycloak OWNER keycloak;

CREATE ROLE litellm LOGIN PASSWORD :'litellm_password';
CREATE DATABASE litellm OWNER litellm;
SQL
