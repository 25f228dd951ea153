// Package webhdfs serves hopsql's filesystem (package fs) over a REST API
// compatible with Hadoop's WebHDFS v1, so that curl, Hadoop's own
// webhdfs:// client and the many libraries written for it (Python hdfs,
// pywebhdfs, …) read and write hopsql's files.
//
// Requests look like HDFS's: /webhdfs/v1/<path>?op=<OP>&…, with the same
// JSON bodies (FileStatus, FileStatuses, XAttrs, ContentSummary, boolean)
// and the same RemoteException errors and status codes. Supported:
//
//	GET    LISTSTATUS, GETFILESTATUS, OPEN (offset, length), GETXATTRS,
//	       LISTXATTRS, GETCONTENTSUMMARY, GETHOMEDIRECTORY
//	PUT    CREATE (overwrite, permission; HDFS's two-step redirect), MKDIRS,
//	       RENAME (destination), SETXATTR, REMOVEXATTR, SETQUOTA
//	DELETE DELETE (recursive)
//
// Paths are decoded once and then validated by the catalog
// (catalog.SplitPath): "..", ".", empty components, NUL bytes and over-long
// names are refused with 400, never normalised, so a request cannot reach
// outside the path it names.
//
// Authentication follows the SQL side: in trust mode the user comes from
// user.name= (HDFS's pseudo authentication) and must exist; in password mode
// the client sends HTTP Basic credentials, checked against the user's
// SCRAM-SHA-256 verifier. The package takes user lookup and password
// checking as functions, so that it depends on neither wire nor engine.
package webhdfs
