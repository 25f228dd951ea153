package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
)

// reconcileTables makes a database's carriers match the catalog, which is
// the truth about tables: a catalog table whose carrier is missing or
// differs (a crash between the catalog commit and DuckDB's) gets it
// recreated from the stored definition; a carrier the catalog does not know
// is the leftover of a dropped table and goes. On the first start after an
// upgrade (no marker file yet), tables that predate the Parquet storage are
// moved into it instead: their rows become their first snapshot.
func (e *Engine) reconcileTables(ctx context.Context, db *database) error {
	c, err := db.connector.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to %q: %w", db.name, err)
	}
	defer c.Close()
	conn := c.(*duckdb.Conn)
	exec := func(sql string) error {
		_, err := conn.ExecContext(ctx, sql, nil)
		return err
	}
	marker := filepath.Join(e.cfg.DataDir, "databases", db.name+".storage")
	_, statErr := os.Stat(marker)
	migrated := statErr == nil

	duck := map[string]string{}
	rows, err := conn.QueryContext(ctx, "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = $1 AND schema_name = 'main' AND NOT temporary AND NOT internal",
		[]driver.NamedValue{{Ordinal: 1, Value: db.name}})
	if err != nil {
		return fmt.Errorf("list tables of %q: %w", db.name, err)
	}
	vals := make([]driver.Value, 2)
	for rows.Next(vals) == nil {
		n, _ := vals[0].(string)
		sql, _ := vals[1].(string)
		duck[n] = sql
	}
	rows.Close()

	known := map[string]bool{}
	for _, t := range e.catalog.Tables(db.name) {
		if t.Schema != "main" {
			continue
		}
		known[t.Name] = true
		if sql, ok := duck[t.Name]; ok && sql == t.SQL {
			continue
		}
		if _, ok := duck[t.Name]; ok {
			if err := exec("DROP TABLE main." + quoteIdent(t.Name) + " CASCADE"); err != nil {
				return fmt.Errorf("replace carrier of %q: %w", t.Name, err)
			}
		}
		if err := exec(t.SQL); err != nil {
			return fmt.Errorf("recreate carrier of %q: %w", t.Name, err)
		}
		e.log.Info("recreated table definition from the catalog", "database", db.name, "table", t.Name)
	}
	for name := range duck {
		if known[name] {
			continue
		}
		if migrated {
			if err := exec("DROP TABLE main." + quoteIdent(name) + " CASCADE"); err != nil {
				return fmt.Errorf("drop leftover carrier %q: %w", name, err)
			}
			e.log.Info("dropped the definition of a dropped table", "database", db.name, "table", name)
			continue
		}
		if err := e.migrateTable(ctx, conn, db, name); err != nil {
			return err
		}
	}
	if !migrated {
		if err := catalog.WriteFileAtomic(marker, []byte("parquet snapshots\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// migrateTable moves a native DuckDB table's rows into its first snapshot.
func (e *Engine) migrateTable(ctx context.Context, conn *duckdb.Conn, db *database, name string) error {
	s := &Session{e: e, db: db, conn: conn, user: e.cfg.Superuser}
	put, err := s.tableDefinition(ctx, name)
	if err != nil {
		return err
	}
	c := catalog.Commit{Project: db.name, User: e.cfg.Superuser, Puts: []catalog.PutTable{put}}
	f, err := s.writeCarrier(ctx, name)
	if err != nil {
		return err
	}
	if f != nil {
		c.Data = []catalog.TableData{{Schema: "main", Name: name, Op: "MIGRATE", Expect: -1, Add: []catalog.NewFile{*f}}}
	}
	if _, err := e.catalog.Propose(ctx, catalog.CmdCommit, c); err != nil {
		if f != nil {
			os.Remove(e.fs.BlockPath(f.Block.ID))
		}
		if errors.Is(err, catalog.ErrExists) {
			return nil
		}
		return fmt.Errorf("migrate table %q: %w", name, err)
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM main."+quoteIdent(name), nil); err != nil {
		return fmt.Errorf("migrate table %q: %w", name, err)
	}
	e.log.Info("moved table into Parquet storage", "database", db.name, "table", name, "at", time.Now().UTC())
	return nil
}
