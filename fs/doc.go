// Package fs will own hopsql's hierarchical filesystem after HopsFS: inodes
// keyed by (parent, name) in the catalog, small files inline in metadata,
// larger ones as fsynced blocks under the data directory, atomic renames,
// quotas and xattrs, reached from SQL, the CLI and a WebHDFS-compatible API
// (issue 3). It has no code yet.
package fs
