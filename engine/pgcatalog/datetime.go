package pgcatalog

import (
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// Literals of date, time and boolean types that PostgreSQL's input
// functions accept and DuckDB's casts refuse. A constant string under an
// explicit cast is normalised here to a form DuckDB reads with the same
// meaning; anything not recognised is left for DuckDB to read (or refuse).
// Implicit casts (a string compared with a timestamp column) are DuckDB's.

// castLiteral rewrites the constant argument of a cast to one of these
// types; true when it changed the tree.
func (r *rewriter) castLiteral(n *pg_query.Node, tc *pg_query.TypeCast, name string) bool {
	c := tc.Arg.GetAConst()
	if c == nil || c.GetSval() == nil || len(tc.TypeName.ArrayBounds) > 0 {
		return false
	}
	s := c.GetSval().GetSval()
	switch name {
	case "bool":
		v, ok := pgBool(s)
		if !ok {
			r.err = pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type boolean: \"%s\"", s)
			return true
		}
		r.replace(n, boolConst(v))
		return true
	case "date", "timestamp", "timestamptz":
		if expr := specialDateTime(name, s); expr != "" {
			r.replaceWith(n, expr)
			return true
		}
		if v, ok := normalizeDateTime(name, s); ok && v != s {
			c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: v}}
			r.changed = true
			return true
		}
	case "time":
		if v, ok := normalizeTime(s); ok && v != s {
			c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: v}}
			r.changed = true
			return true
		}
	}
	return false
}

// pgBool reads boolin's spellings: true/false, yes/no, on/off, 1/0 and any
// unique prefix of them (on and off need two letters), around white space.
func pgBool(s string) (bool, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return false, false
	}
	for _, w := range []struct {
		word string
		min  int
		v    bool
	}{{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false}, {"on", 2, true}, {"off", 2, false},
		{"1", 1, true}, {"0", 1, false}} {
		if len(t) >= w.min && strings.HasPrefix(w.word, t) {
			return w.v, true
		}
	}
	return false, false
}

// specialDateTime is PostgreSQL's special input values that mean a time
// relative to now, as DuckDB expressions of the cast's type.
func specialDateTime(typ, s string) string {
	day := map[string]string{"today": "0", "tomorrow": "1", "yesterday": "-1"}
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case t == "now" && typ == "date":
		return "current_date"
	case t == "now" && typ == "timestamp":
		return "CAST(now() AS timestamp)"
	case t == "now":
		return "now()"
	case day[t] != "" && typ == "date":
		return "current_date + " + day[t]
	case day[t] != "":
		return "CAST(date_trunc('day', CAST(now() AS timestamp)) + INTERVAL '" + day[t] + " day' AS " + typ + ")"
	}
	return ""
}

// dateLayouts are date spellings PostgreSQL reads (with DateStyle MDY) and
// DuckDB does not; each is rewritten as YYYY-MM-DD.
var dateLayouts = []string{"20060102", "01/02/2006", "1/2/2006", "Jan 2 2006", "Jan 2, 2006", "January 2 2006",
	"January 2, 2006", "2-Jan-2006", "2 Jan 2006", "2 January 2006", "Mon Jan 2 2006", "2006/01/02", "2006.01.02"}

// timeLayouts are the time parts that may follow such a date.
var timeLayouts = []string{"15:04:05.999999", "15:04:05", "15:04", "3:04:05PM", "3:04:05 PM", "3:04PM", "3:04 PM",
	"3:04:05pm", "3:04:05 pm", "3:04pm", "3:04 pm"}

// normalizeDateTime rewrites a date or timestamp literal DuckDB would not
// read: an ISO date with a time without seconds ("2024-01-15 10:30+02",
// "…T10:30Z"), or one of dateLayouts with an optional time of timeLayouts
// and zone. ok is false when the literal is not one of these.
func normalizeDateTime(typ, s string) (string, bool) {
	t := strings.TrimSpace(s)
	// ISO date, then T or space, then HH:MM not followed by seconds.
	if len(t) >= 16 && t[4] == '-' && t[7] == '-' && (t[10] == ' ' || t[10] == 'T') && isDigits(t[:4]+t[5:7]+t[8:10]) &&
		isDigits(t[11:13]) && t[13] == ':' && isDigits(t[14:16]) && (len(t) == 16 || t[16] != ':' && !isDigit(t[16])) {
		rest := strings.TrimSpace(t[16:])
		if rest == "Z" || rest == "z" {
			rest = "+00"
		}
		out := t[:10] + " " + t[11:16] + ":00"
		switch {
		case strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "-"):
			out += rest // an offset; after a space DuckDB would read a zone name
		case rest != "":
			out += " " + rest
		}
		return out, true
	}
	if len(t) >= 10 && t[4] == '-' && isDigits(t[:4]) {
		return "", false // any other ISO form is DuckDB's to read (no layout below starts so)
	}
	// A zone may follow a time; it is kept as written for DuckDB: an
	// offset (+02, -0530) or a zone name as the last word.
	headOffset, offset := t, ""
	if i := strings.LastIndexAny(t, "+-"); i > 0 && isDigits(strings.TrimLeft(strings.ReplaceAll(t[i+1:], ":", ""), " ")) {
		headOffset, offset = strings.TrimSpace(t[:i]), t[i:]
	}
	headZone, zoneName := t, ""
	if f := strings.Fields(t); len(f) > 1 && isZoneName(f[len(f)-1]) {
		headZone, zoneName = strings.Join(f[:len(f)-1], " "), f[len(f)-1]
	}
	for _, dl := range dateLayouts {
		for _, tl := range append([]string{""}, timeLayouts...) {
			layout := dl
			if tl != "" {
				layout += " " + tl
			}
			head, zone := t, ""
			switch {
			case tl == "":
			case offset != "" && !strings.Contains(dl, "-"):
				head, zone = headOffset, offset
			case zoneName != "":
				head, zone = headZone, zoneName
			}
			v, err := time.Parse(layout, head)
			if err != nil {
				continue
			}
			if typ == "date" || tl == "" {
				out := v.Format("2006-01-02")
				if typ != "date" {
					out += " 00:00:00"
				}
				return out, true
			}
			out := v.Format("2006-01-02 15:04:05.999999")
			if zone != "" {
				out += " " + zone
			}
			return out, true
		}
	}
	return "", false
}

// normalizeTime rewrites a time with AM/PM ("10:30 PM") or without
// seconds and with a zone-less suffix PostgreSQL accepts.
func normalizeTime(s string) (string, bool) {
	t := strings.TrimSpace(s)
	for _, tl := range timeLayouts {
		if v, err := time.Parse(tl, t); err == nil {
			return v.Format("15:04:05.999999"), true
		}
	}
	return "", false
}

func isZoneName(s string) bool {
	if s == "UTC" || s == "GMT" || s == "Z" {
		return true
	}
	if !strings.Contains(s, "/") {
		return false
	}
	_, err := time.LoadLocation(s)
	return err == nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
