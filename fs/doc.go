// Package fs is hopsql's hierarchical filesystem after HopsFS: inodes keyed
// by (parent, name) in the catalog, files up to 64 KiB inline in the
// metadata, larger ones as immutable blocks under the data directory that
// are fsynced before the catalog entry that makes them visible, atomic
// renames of whole trees, recursive deletes, per-project quotas and xattrs.
// Package fs/webhdfs serves it over a WebHDFS-compatible REST API. See
// DESIGN.md.
package fs
