#!/usr/bin/env bash
# Installs the real clients and the reference server the tests drive, from
# Debian, when they are missing: psql and PostgreSQL 15, PgJDBC 42.5 with a
# JDK, psycopg2 for /usr/bin/python3, and the trainer runtime's NumPy,
# scikit-learn, XGBoost and PyTorch (CPU) for experiments; node-postgres.
set -euo pipefail
need=()
command -v psql >/dev/null || need+=(postgresql-client-15)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
[ -f /usr/share/java/postgresql.jar ] || need+=(libpostgresql-jdbc-java)
command -v javac >/dev/null || need+=(default-jdk-headless)
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || need+=(python3-psycopg2)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || need+=(python3-sklearn)
/usr/bin/python3 -c 'import xgboost' 2>/dev/null || need+=(python3-xgboost)
/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# node-postgres, pg-cursor and pg-copy-streams (tests/testdata/nodepg) come
# from npm at the versions package-lock.json pins; Node.js and npm from
# Debian when there is no node at all.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing: nodejs npm"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
nodepg="$(dirname "$0")/testdata/nodepg"
if [ ! -d "$nodepg/node_modules/pg" ] || [ "$nodepg/package-lock.json" -nt "$nodepg/node_modules/.package-lock.json" ]; then
  echo "installing: node-postgres (npm ci in $nodepg)"
  (cd "$nodepg" && npm ci --no-audit --no-fund --loglevel=error)
fi
# PostgreSQL refuses to run as root; tests that start it use this account.
id postgres >/dev/null 2>&1 || { [ "$(id -u)" -eq 0 ] && useradd -m -s /bin/bash postgres; } || true
echo "test dependencies present"
