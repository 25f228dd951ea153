package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Time travel: `FROM t AT (VERSION => 3)` and `FROM t AT (TIMESTAMP => '…')`
// read a table as it was at a committed version. PostgreSQL's grammar has
// no such clause, so it is found among PostgreSQL's own tokens (pg_query's
// scanner; never a regular expression) and the relation and its clause are
// replaced by a session view of that version's files, before the statement
// is parsed.

// rewriteTimeTravel returns sql with every `relation AT (VERSION|TIMESTAMP
// => value)` replaced.
func (s *Session) rewriteTimeTravel(ctx context.Context, sql string) (string, error) {
	if !strings.Contains(sql, "=>") {
		return sql, nil
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return sql, nil // the parser reports it
	}
	toks := res.Tokens
	text := func(t *pg_query.ScanToken) string { return sql[t.Start:t.End] }
	var b strings.Builder
	last := 0
	for i := 1; i+4 < len(toks); i++ {
		if toks[i].Token != pg_query.Token_AT || toks[i+1].Token != pg_query.Token_ASCII_40 || toks[i+3].Token != pg_query.Token_EQUALS_GREATER {
			continue
		}
		kind := strings.ToLower(text(toks[i+2]))
		if kind != "version" && kind != "timestamp" {
			continue
		}
		depth, j := 1, i+4
		for ; j < len(toks); j++ {
			switch toks[j].Token {
			case pg_query.Token_ASCII_40:
				depth++
			case pg_query.Token_ASCII_41:
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if j >= len(toks) || j == i+4 {
			return "", pgerr.New(pgerr.SyntaxError, "syntax error in AT (%s => …)", strings.ToUpper(kind))
		}
		expr := sql[toks[i+4].Start:toks[j-1].End]
		// The relation: name or schema.name right before AT.
		start := i - 1
		if start >= 2 && toks[start-1].Token == pg_query.Token_ASCII_46 {
			start -= 2
		}
		var parts []string
		for k := start; k < i; k += 2 {
			parts = append(parts, identText(text(toks[k])))
		}
		name := parts[len(parts)-1]
		if len(parts) == 2 && parts[0] != "public" && parts[0] != "main" {
			return "", pgerr.New(pgerr.FeatureNotSupported, "time travel is available for tables in schema public")
		}
		view, err := s.versionView(ctx, name, kind, expr)
		if err != nil {
			return "", err
		}
		b.WriteString(sql[last:toks[start].Start])
		b.WriteString(view)
		// Keep the table's name as the correlation name unless the query
		// gives its own alias.
		if j+1 >= len(toks) || (toks[j+1].Token != pg_query.Token_AS && toks[j+1].Token != pg_query.Token_IDENT) {
			b.WriteString(" AS " + quoteIdent(name))
		}
		last = int(toks[j].End)
		i = j
	}
	if last == 0 {
		return sql, nil
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}

// identText is an identifier token's value: folded to lower case unless quoted.
func identText(t string) string {
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		return strings.ReplaceAll(t[1:len(t)-1], `""`, `"`)
	}
	return strings.ToLower(t)
}

// versionView creates a session view of one version of a table and returns
// its quoted name.
func (s *Session) versionView(ctx context.Context, name, kind, expr string) (string, error) {
	var version, asOf int64
	if kind == "version" {
		v, err := strconv.ParseInt(strings.TrimSpace(expr), 10, 64)
		if err != nil || v < 0 {
			return "", pgerr.New(pgerr.InvalidParameterValue, "AT (VERSION => %s): the version must be a non-negative integer", expr)
		}
		version = v
		if v == 0 {
			version = -1 // "version 0", not "current"
		}
	} else {
		if strings.Contains(expr, "$") {
			return "", pgerr.New(pgerr.FeatureNotSupported, "AT (TIMESTAMP => …) needs a constant timestamp")
		}
		rows, err := s.conn.QueryContext(ctx, "SELECT epoch_ns(CAST(("+expr+") AS TIMESTAMPTZ))", nil)
		if err != nil {
			return "", pgerr.From(err)
		}
		vals := make([]driver.Value, 1)
		err = rows.Next(vals)
		rows.Close()
		if err != nil {
			return "", fmt.Errorf("evaluate AT (TIMESTAMP => %s): %w", expr, err)
		}
		asOf, _ = vals[0].(int64)
	}
	t, ok := s.e.catalog.Table(s.db.name, "main", name)
	if !ok {
		return "", pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", name)
	}
	var (
		v     int64
		files []catalog.FileRef
		err   error
	)
	if version < 0 {
		v, files, err = s.tableVersionZero(t)
	} else {
		v, files, err = s.e.catalog.TableFiles(s.db.name, "main", name, version, asOf)
	}
	if err != nil {
		return "", pgerr.New(pgerr.InvalidParameterValue, "%s", err.Error())
	}
	cols := t.ColumnsAt(v)
	view := fmt.Sprintf("%s@v%d", name, v)
	var sql string
	if len(files) == 0 {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = "CAST(NULL AS " + c.Type + ") AS " + quoteIdent(c.Name)
		}
		sql = "SELECT " + strings.Join(parts, ", ") + " WHERE false"
	} else {
		if sql, err = s.readSQL(cols, files, storage.ReadOptions{}); err != nil {
			return "", fmt.Errorf("view of %s: %w", view, err)
		}
	}
	if err := s.exec(ctx, "CREATE OR REPLACE TEMP VIEW "+quoteIdent(view)+" AS "+sql); err != nil {
		return "", fmt.Errorf("view of %s: %w", view, err)
	}
	return quoteIdent(view), nil
}

// tableVersionZero is a table before its first commit: no files, if that
// far back is still kept.
func (s *Session) tableVersionZero(t catalog.TableInfo) (int64, []catalog.FileRef, error) {
	if len(t.Snapshots) > 0 && t.Snapshots[0].Version > 1 {
		return 0, nil, fmt.Errorf("version 0 of table %s has expired", t.Name)
	}
	return 0, nil, nil
}
