// Package catalog is the only place hopsql's metadata is written. Issue 3
// turns it into a Raft-replicated state machine (projects, users, tables and
// their snapshots, the fs namespace); today it holds the users and their
// SCRAM-SHA-256 verifiers in one file that is replaced atomically
// (write, fsync, rename, fsync the directory), so a crash never leaves a
// half-written user table behind.
package catalog
