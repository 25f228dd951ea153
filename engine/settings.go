package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// setting describes one PostgreSQL configuration parameter hopsql knows.
type setting struct {
	name string // canonical spelling, as SHOW ALL and ParameterStatus print it
	def  string
	// report: sent to the client in ParameterStatus whenever it changes (GUC_REPORT).
	report bool
	// readOnly parameters can be shown but not set.
	readOnly bool
	// check validates and normalises a new value.
	check func(v string) (string, error)
	desc  string
}

// ServerVersion is the PostgreSQL version hopsql presents itself as.
const (
	ServerVersion    = "15.18"
	ServerVersionNum = "150018"
)

func checkBool(v string) (string, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "t", "y":
		return "on", nil
	case "off", "false", "no", "0", "f", "n":
		return "off", nil
	}
	return "", fmt.Errorf("requires a Boolean value")
}

func checkInt(lo, hi int) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return "", fmt.Errorf("%q is outside the valid range (%d .. %d)", v, lo, hi)
		}
		return strconv.Itoa(n), nil
	}
}

func checkEncoding(v string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(v, "-", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", nil
	}
	return "", fmt.Errorf("hopsql speaks UTF8 only")
}

func checkDateStyle(v string) (string, error) {
	// Output is always ISO; the order part only affects input of ambiguous
	// dates, which DuckDB parses as ISO/MDY. Non-ISO output styles would need
	// a second formatter for every date type, so they are refused.
	parts := strings.Split(v, ",")
	out, order := "ISO", "MDY"
	for _, p := range parts {
		switch strings.ToUpper(strings.TrimSpace(p)) {
		case "ISO", "":
		case "MDY", "US", "NONEURO", "NONEUROPEAN":
			order = "MDY"
		case "DMY", "EURO", "EUROPEAN", "YMD":
			return "", fmt.Errorf("date order %s is not supported; hopsql supports ISO, MDY", strings.TrimSpace(p))
		default:
			return "", fmt.Errorf("output style %s is not supported; hopsql supports ISO, MDY", strings.TrimSpace(p))
		}
	}
	return out + ", " + order, nil
}

func checkTimeZone(v string) (string, error) {
	if _, err := loadLocation(v); err != nil {
		return "", err
	}
	return v, nil
}

// loadLocation resolves a PostgreSQL TimeZone value: a zone name, UTC/GMT or
// a POSIX-style numeric offset.
func loadLocation(v string) (*time.Location, error) {
	if isUTCName(v) {
		return time.UTC, nil
	}
	if loc, err := time.LoadLocation(v); err == nil {
		return loc, nil
	}
	// A bare number is hours east of UTC in SET TIME ZONE (PostgreSQL's
	// interpretation of an interval-like value).
	if h, err := strconv.ParseFloat(v, 64); err == nil && h > -16 && h < 16 {
		return time.FixedZone(v, int(h*3600)), nil
	}
	return nil, fmt.Errorf("invalid value for parameter \"TimeZone\": %q", v)
}

func checkIsolation(v string) (string, error) {
	switch strings.ToLower(v) {
	case "serializable", "repeatable read", "read committed", "read uncommitted":
		return strings.ToLower(v), nil
	}
	return "", fmt.Errorf("invalid value %q", v)
}

func checkEnum(vals ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, a := range vals {
			if strings.EqualFold(a, v) {
				return a, nil
			}
		}
		return "", fmt.Errorf("invalid value %q; available values: %s", v, strings.Join(vals, ", "))
	}
}

func checkAny(v string) (string, error) { return v, nil }

func checkDuration(v string) (string, error) {
	if _, err := parseDurationMillis(v); err != nil {
		return "", err
	}
	return v, nil
}

// parseDurationMillis reads a PostgreSQL time setting: a number of
// milliseconds, or a number with a unit (ms, s, min, h, d).
func parseDurationMillis(v string) (time.Duration, error) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid value for a time setting: %q", v)
	}
	unit := map[string]time.Duration{"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond,
		"s": time.Second, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	u, ok := unit[strings.TrimSpace(s[i:])]
	if !ok {
		return 0, fmt.Errorf("invalid unit in time setting %q: valid units are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"", v)
	}
	return time.Duration(n * float64(u)), nil
}

// settingDefs is the table of known parameters, keyed by lower-case name.
var settingDefs = func() map[string]*setting {
	defs := []*setting{
		{name: "server_version", def: ServerVersion, report: true, readOnly: true, desc: "Shows the server version."},
		{name: "server_version_num", def: ServerVersionNum, readOnly: true, desc: "Shows the server version as an integer."},
		{name: "server_encoding", def: "UTF8", report: true, readOnly: true, desc: "Shows the server (database) character set encoding."},
		{name: "client_encoding", def: "UTF8", report: true, check: checkEncoding, desc: "Sets the client's character set encoding."},
		{name: "DateStyle", def: "ISO, MDY", report: true, check: checkDateStyle, desc: "Sets the display format for date and time values."},
		{name: "IntervalStyle", def: "postgres", report: true, check: checkEnum("postgres"), desc: "Sets the display format for interval values."},
		{name: "TimeZone", def: "UTC", report: true, check: checkTimeZone, desc: "Sets the time zone for displaying and interpreting time stamps."},
		{name: "integer_datetimes", def: "on", report: true, readOnly: true, desc: "Shows whether datetimes are integer based."},
		{name: "standard_conforming_strings", def: "on", report: true, check: checkEnum("on"), desc: "Causes '...' strings to treat backslashes literally."},
		{name: "application_name", def: "", report: true, check: checkAny, desc: "Sets the application name to be reported in statistics and logs."},
		{name: "is_superuser", def: "on", report: true, readOnly: true, desc: "Shows whether the current user is a superuser."},
		{name: "session_authorization", def: "", report: true, readOnly: true, desc: "Sets the session user name."},
		{name: "default_transaction_read_only", def: "off", report: true, check: checkBool, desc: "Sets the default read-only status of new transactions."},
		{name: "in_hot_standby", def: "off", report: true, readOnly: true, desc: "Shows whether hot standby is currently active."},
		{name: "extra_float_digits", def: "1", check: checkInt(-15, 3), desc: "Sets the number of digits displayed for floating-point values."},
		{name: "search_path", def: `"$user", public`, check: checkAny, desc: "Sets the schema search order for names that are not schema-qualified."},
		{name: "statement_timeout", def: "0", check: checkDuration, desc: "Sets the maximum allowed duration of any statement."},
		{name: "lock_timeout", def: "0", check: checkDuration, desc: "Sets the maximum allowed duration of any wait for a lock."},
		{name: "idle_in_transaction_session_timeout", def: "0", check: checkDuration, desc: "Sets the maximum allowed idle time between queries, when in a transaction."},
		{name: "default_transaction_isolation", def: "read committed", check: checkIsolation, desc: "Sets the transaction isolation level of each new transaction."},
		{name: "transaction_isolation", def: "read committed", check: checkIsolation, desc: "Sets the current transaction's isolation level."},
		{name: "transaction_read_only", def: "off", check: checkBool, desc: "Sets the current transaction's read-only status."},
		{name: "client_min_messages", def: "notice", check: checkEnum("debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error"), desc: "Sets the message levels that are sent to the client."},
		{name: "max_identifier_length", def: "63", readOnly: true, desc: "Shows the maximum identifier length."},
		{name: "bytea_output", def: "hex", check: checkEnum("hex"), desc: "Sets the output format for bytea."},
		{name: "lc_messages", def: "C", check: checkAny, desc: "Sets the language in which messages are displayed."},
		{name: "lc_monetary", def: "C", check: checkAny, desc: "Sets the locale for formatting monetary amounts."},
		{name: "lc_numeric", def: "C", check: checkAny, desc: "Sets the locale for formatting numbers."},
		{name: "lc_time", def: "C", check: checkAny, desc: "Sets the locale for formatting date and time values."},
		{name: "lc_collate", def: "C", readOnly: true, desc: "Shows the collation order locale."},
		{name: "lc_ctype", def: "C", readOnly: true, desc: "Shows the character classification and case conversion locale."},
		{name: "max_connections", def: "1000", readOnly: true, desc: "Sets the maximum number of concurrent connections."},
		{name: "block_size", def: "8192", readOnly: true, desc: "Shows the size of a disk block."},
		{name: "synchronous_commit", def: "on", check: checkEnum("on", "off", "local", "remote_write", "remote_apply"), desc: "Sets the current transaction's synchronization level."},
		{name: "row_security", def: "on", check: checkBool, desc: "Enable row security."},
		{name: "check_function_bodies", def: "on", check: checkBool, desc: "Check routine bodies during CREATE FUNCTION and CREATE PROCEDURE."},
		{name: "xmloption", def: "content", check: checkEnum("content", "document"), desc: "Sets whether XML data in implicit parsing and serialization operations is to be considered as documents or content fragments."},
		{name: "work_mem", def: "4MB", check: checkAny, desc: "Sets the maximum memory to be used for query workspaces."},
		{name: "jit", def: "off", check: checkBool, desc: "Allow JIT compilation."},
		{name: "enable_seqscan", def: "on", check: checkBool, desc: "Enables the planner's use of sequential-scan plans."},
		{name: "escape_string_warning", def: "on", check: checkBool, desc: "Warn about backslash escapes in ordinary string literals."},
		{name: "hopsql.columnar_results", def: "on", check: checkBool, desc: "Sends results of flat column types from DuckDB's columnar batches (Arrow) rather than row by row."},
	}
	m := make(map[string]*setting, len(defs))
	for _, d := range defs {
		m[strings.ToLower(d.name)] = d
	}
	return m
}()

// settings is one session's parameter values.
type settings struct {
	vals map[string]string // lower-case name → value
	// custom holds placeholder parameters with a dot in their name (my.var),
	// which PostgreSQL accepts from any client.
	custom map[string]string
}

func newSettings(startup map[string]string, user string) (*settings, error) {
	s := &settings{vals: map[string]string{}, custom: map[string]string{}}
	for k, d := range settingDefs {
		s.vals[k] = d.def
	}
	s.vals["session_authorization"] = user
	for k, v := range startup {
		switch strings.ToLower(k) {
		case "user", "database", "replication":
			continue
		case "options":
			// "-c name=value" pairs, as libpq's PGOPTIONS sends them.
			fields := strings.Fields(v)
			for i := 0; i < len(fields); i++ {
				f := strings.TrimPrefix(fields[i], "--")
				if f == "-c" && i+1 < len(fields) {
					i++
					f = fields[i]
				} else if strings.HasPrefix(f, "-c") {
					f = f[2:]
				}
				name, val, ok := strings.Cut(f, "=")
				if !ok {
					continue
				}
				if _, err := s.set(strings.ReplaceAll(name, "-", "_"), val); err != nil {
					return nil, err
				}
			}
			continue
		}
		if _, err := s.set(k, v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// get returns a parameter's value by any spelling of its name.
func (s *settings) get(name string) (string, bool) {
	n := strings.ToLower(name)
	if v, ok := s.vals[n]; ok {
		return v, true
	}
	v, ok := s.custom[n]
	return v, ok
}

// canonicalName returns the spelling ParameterStatus uses.
func canonicalName(name string) string {
	if d, ok := settingDefs[strings.ToLower(name)]; ok {
		return d.name
	}
	return strings.ToLower(name)
}

// set validates and stores a value; it returns the normalised value.
func (s *settings) set(name, value string) (string, error) {
	n := strings.ToLower(name)
	d, ok := settingDefs[n]
	if !ok {
		if strings.Contains(n, ".") {
			s.custom[n] = value
			return value, nil
		}
		return "", pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	if d.readOnly {
		return "", pgerr.New("55P02", "parameter %q cannot be changed", d.name)
	}
	v, err := d.check(value)
	if err != nil {
		return "", pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", d.name, value).WithDetail(err.Error())
	}
	s.vals[n] = v
	return v, nil
}

// reset restores a parameter's default.
func (s *settings) reset(name string) (string, error) {
	n := strings.ToLower(name)
	d, ok := settingDefs[n]
	if !ok {
		if _, ok := s.custom[n]; ok {
			delete(s.custom, n)
			return "", nil
		}
		return "", pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	if d.readOnly {
		return "", pgerr.New("55P02", "parameter %q cannot be changed", d.name)
	}
	s.vals[n] = d.def
	return d.def, nil
}

// reported lists the parameters a client is told about at startup.
func (s *settings) reported() [][2]string {
	var out [][2]string
	for k, d := range settingDefs {
		if d.report && k == strings.ToLower(d.name) {
			out = append(out, [2]string{d.name, s.vals[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// all lists every parameter for SHOW ALL, sorted by name.
func (s *settings) all() [][3]string {
	var out [][3]string
	for k, d := range settingDefs {
		if k == strings.ToLower(d.name) {
			out = append(out, [3]string{d.name, s.vals[k], d.desc})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// isUTCName reports whether a TimeZone value is one of UTC's spellings.
func isUTCName(v string) bool {
	switch strings.ToUpper(v) {
	case "UTC", "GMT", "Z", "ZULU", "UCT":
		return true
	}
	return false
}
