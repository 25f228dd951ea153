// Package tests holds hopsql's end-to-end tests: each starts the real
// hopsql binary on a random loopback port with a fresh data directory and
// drives it with real clients — pgx, psql, PgJDBC and psycopg2 — and, where
// behaviour is in doubt, runs the same thing on a PostgreSQL 15 started for
// the test run and compares.
package tests
