#!/bin/sh
# First start of the database container only (docker-entrypoint-initdb.d):
# the two roles of docs/security.md. The owner runs migrations; the app role
# owns nothing and gets its row grants from each migrate.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres \
  -v owner_pw="$OWNER_DB_PASSWORD" -v app_pw="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE advisoros_owner LOGIN PASSWORD :'owner_pw' NOSUPERUSER NOBYPASSRLS;
CREATE ROLE advisoros_app LOGIN PASSWORD :'app_pw' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE advisoros OWNER advisoros_owner;
\c advisoros
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE advisoros TO advisoros_app;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS citext;
-- The operations page's slowest queries (shared_preload_libraries in compose).
-- The app role is granted no role (not even pg_read_all_stats): other roles'
-- statements and sessions show as hidden there.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL
