package pgfunc

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// RegexpMatches is regexp_matches(s, pattern, flags): per match (every
// match with flag g, else the first), the parenthesised subexpressions —
// NULL for one that took no part — or the whole match when there are none.
// Flags are PostgreSQL's: g, i, c, n (newline-sensitive; by default . and
// [^…] match newlines, as in PostgreSQL); the others are refused. Patterns
// are RE2's, as everywhere in DuckDB.
func RegexpMatches(s, pattern, flags string) ([][]any, error) {
	re, global, err := compileFlags(nil, pattern, flags)
	if err != nil {
		return nil, err
	}
	return regexpMatches(re, global, s), nil
}

func regexpMatches(re *regexp.Regexp, global bool, s string) [][]any {
	n := 1
	if global {
		n = -1
	}
	var out [][]any
	for _, m := range re.FindAllStringSubmatchIndex(s, n) {
		var row []any
		if len(m) == 2 {
			row = []any{s[m[0]:m[1]]}
		}
		for g := 2; g+1 < len(m); g += 2 {
			if m[g] < 0 {
				row = append(row, nil)
			} else {
				row = append(row, s[m[g]:m[g+1]])
			}
		}
		out = append(out, row)
	}
	return out
}

// patternCache keeps compiled patterns by flags and pattern: a query calls
// the function once per row with the same pattern. It is emptied when it
// holds maxPatterns, so that patterns built per row do not grow it
// without bound.
type patternCache struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

const maxPatterns = 256

func (c *patternCache) get(key string) (*regexp.Regexp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	re, ok := c.m[key]
	return re, ok
}

func (c *patternCache) put(key string, re *regexp.Regexp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPatterns {
		c.m = map[string]*regexp.Regexp{}
	}
	c.m[key] = re
}

// compileFlags compiles a pattern under PostgreSQL's flags; cache may be
// nil.
func compileFlags(cache *patternCache, pattern, flags string) (*regexp.Regexp, bool, error) {
	global, insensitive, newline := false, false, false
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			insensitive = true
		case 'c':
			insensitive = false
		case 'n':
			newline = true
		default:
			return nil, false, fmt.Errorf("invalid regular expression option: \"%c\"", f)
		}
	}
	prefix := "(?s)"
	if newline {
		prefix = "(?m)"
	}
	if insensitive {
		prefix = strings.TrimSuffix(prefix, ")") + "i)"
	}
	key := prefix + "\x00" + pattern
	if cache != nil {
		if re, ok := cache.get(key); ok {
			return re, global, nil
		}
	}
	re, err := regexp.Compile(prefix + pattern)
	if err != nil {
		return nil, false, fmt.Errorf("invalid regular expression: %v", err)
	}
	if cache != nil {
		cache.put(key, re)
	}
	return re, global, nil
}

// regexpMatchesFunc is hop_regexp_matches(text, text, text) → text[][]:
// the rewriter unnests it into rows.
type regexpMatchesFunc struct {
	cache *patternCache
}

func (regexpMatchesFunc) Config() duckdb.ScalarFuncConfig {
	row, err := duckdb.NewListInfo(varchar())
	if err != nil {
		panic(err)
	}
	rows, err := duckdb.NewListInfo(row)
	if err != nil {
		panic(err)
	}
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar(), varchar(), varchar()}, ResultTypeInfo: rows}
}

func (fn regexpMatchesFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		s, _ := args[0].(string)
		p, _ := args[1].(string)
		f, _ := args[2].(string)
		re, global, err := compileFlags(fn.cache, p, f)
		if err != nil {
			return nil, err
		}
		m := regexpMatches(re, global, s)
		out := make([]any, len(m))
		for i, r := range m {
			out[i] = r
		}
		return out, nil
	}}
}
