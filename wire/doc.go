// Package wire speaks the PostgreSQL frontend/backend protocol, version 3,
// using pgproto3 from pgx for message framing and wire/codec for values:
// SSLRequest and TLS, trust or SCRAM-SHA-256 authentication, simple and
// extended query, COPY in and out, CancelRequest, notices and graceful
// shutdown. It knows sessions and messages, not SQL: every statement is
// handed to an engine.Session, whose rows it encodes in the formats the
// client asked for.
//
// Each connection is served by one goroutine. Replies are appended to one
// buffer per connection and written when the client must see them (at
// ReadyForQuery, Flush, COPY hand-overs, or every 64 KiB), so a result set
// costs one system call per buffer, not one per row.
package wire
