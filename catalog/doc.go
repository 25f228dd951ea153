// Package catalog is the only place hopsql's metadata is written: a Raft
// state machine (hashicorp/raft, its log in raft-wal) holding users and their
// SCRAM verifiers, projects, the filesystem namespace, every table with
// its snapshots (and, for feature groups, their keys), and feature views. Commands are typed, versioned log entries whose ids and
// times the leader chooses, applied deterministically and once per request
// id. See DESIGN.md.
package catalog
