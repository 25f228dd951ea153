package tests

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// docExample is one statement of docs/sql.md and the rows it must return.
type docExample struct {
	sql    string
	result *string // nil: no rows are checked
	err    string  // the SQLSTATE the statement must fail with
	line   int
}

// docExamples reads the ```sql blocks of a Markdown file: statements end
// with ";" at the end of a line; a "-- result: …" line checks the one
// before, and "-- error: SQLSTATE" says it must fail with that code.
func docExamples(t *testing.T, path string) []docExample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docExample
	var cur strings.Builder
	inBlock, start := false, 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inBlock:
			inBlock = trimmed == "```sql"
			continue
		case trimmed == "```":
			if strings.TrimSpace(cur.String()) != "" {
				t.Fatalf("%s:%d: a statement without its final ';'", path, start)
			}
			inBlock = false
			continue
		case strings.HasPrefix(trimmed, "-- result:"):
			if len(out) == 0 || cur.Len() > 0 {
				t.Fatalf("%s:%d: a result line must follow a statement", path, n)
			}
			r := strings.TrimSpace(strings.TrimPrefix(trimmed, "-- result:"))
			out[len(out)-1].result = &r
			continue
		case strings.HasPrefix(trimmed, "-- error:"):
			if len(out) == 0 || cur.Len() > 0 {
				t.Fatalf("%s:%d: an error line must follow a statement", path, n)
			}
			out[len(out)-1].err = strings.TrimSpace(strings.TrimPrefix(trimmed, "-- error:"))
			continue
		case strings.HasPrefix(trimmed, "--") && cur.Len() == 0:
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, docExample{sql: strings.TrimSpace(cur.String()), line: start})
			cur.Reset()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocsSQLExamples runs every example of docs/sql.md, in order, on a
// fresh server, and checks the results the page states.
func TestDocsSQLExamples(t *testing.T) {
	examples := docExamples(t, "../docs/sql.md")
	if len(examples) < 5 {
		t.Fatalf("only %d examples found in docs/sql.md", len(examples))
	}
	srv := startServer(t)
	c := srv.connect(t)
	for _, ex := range examples {
		if ex.err != "" {
			_, err := c.Exec(context.Background(), ex.sql, pgx.QueryExecModeSimpleProtocol)
			if sqlstate(err) != ex.err {
				t.Fatalf("docs/sql.md:%d: %s\n got error %v, want SQLSTATE %s", ex.line, ex.sql, err, ex.err)
			}
			continue
		}
		got := textRows(t, c, ex.sql)
		if ex.result == nil {
			continue
		}
		if g := strings.Join(got, ";"); g != *ex.result {
			t.Fatalf("docs/sql.md:%d: %s\n got %s\nwant %s", ex.line, ex.sql, g, *ex.result)
		}
	}
}
