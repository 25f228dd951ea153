package pgerr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// SQLSTATE codes hopsql emits. Names follow PostgreSQL's errcodes.txt.
const (
	SuccessfulCompletion                = "00000"
	Warning                             = "01000"
	FeatureNotSupported                 = "0A000"
	ConnectionException                 = "08000"
	ProtocolViolation                   = "08P01"
	InvalidCatalogName                  = "3D000"
	InvalidAuthorizationSpec            = "28000"
	InvalidPassword                     = "28P01"
	CardinalityViolation                = "21000"
	DataException                       = "22000"
	StringDataRightTruncation           = "22001"
	NumericValueOutOfRange              = "22003"
	NullValueNotAllowed                 = "22004"
	InvalidDatetimeFormat               = "22007"
	DatetimeFieldOverflow               = "22008"
	DivisionByZero                      = "22012"
	InvalidArgumentForLogarithm         = "2201E"
	InvalidArgumentForPowerFunction     = "2201F"
	InvalidRegularExpression            = "2201B"
	InvalidRowCountInLimitClause        = "2201W"
	InvalidRowCountInResultOffsetClause = "2201X"
	CharacterNotInRepertoire            = "22021"
	InvalidParameterValue               = "22023"
	InvalidTextRepresentation           = "22P02"
	BadCopyFileFormat                   = "22P04"
	InvalidBinaryRepresentation         = "22P03"
	UntranslatableCharacter             = "22P05"
	InvalidEscapeSequence               = "22025"
	IntegrityConstraintViolation        = "23000"
	NotNullViolation                    = "23502"
	ForeignKeyViolation                 = "23503"
	UniqueViolation                     = "23505"
	CheckViolation                      = "23514"
	InvalidCursorState                  = "24000"
	InvalidTransactionState             = "25000"
	ActiveSQLTransaction                = "25001"
	NoActiveSQLTransaction              = "25P01"
	InFailedSQLTransaction              = "25P02"
	ReadOnlySQLTransaction              = "25006"
	InvalidSQLStatementName             = "26000"
	InvalidCursorName                   = "34000"
	SerializationFailure                = "40001"
	SyntaxErrorOrAccessRule             = "42000"
	SyntaxError                         = "42601"
	InsufficientPrivilege               = "42501"
	UndefinedColumn                     = "42703"
	UndefinedFunction                   = "42883"
	UndefinedTable                      = "42P01"
	UndefinedObject                     = "42704"
	UndefinedParameter                  = "42P02"
	DuplicateTable                      = "42P07"
	DuplicateObject                     = "42710"
	WindowingError                      = "42P20"
	DuplicateDatabase                   = "42P04"
	DuplicateSchema                     = "42P06"
	DuplicateColumn                     = "42701"
	DuplicatePreparedStatement          = "42P05"
	DuplicateCursor                     = "42P03"
	AmbiguousColumn                     = "42702"
	DatatypeMismatch                    = "42804"
	IndeterminateDatatype               = "42P18"
	WrongObjectType                     = "42809"
	InvalidColumnReference              = "42P10"
	InvalidTableDefinition              = "42P16"
	InvalidName                         = "42602"
	GroupingError                       = "42803"
	UndefinedSchema                     = "3F000"
	DependentObjectsStillExist          = "2BP01"
	ProgramLimitExceeded                = "54000"
	OutOfMemory                         = "53200"
	QueryCanceled                       = "57014"
	AdminShutdown                       = "57P01"
	ObjectNotInPrerequisiteState        = "55000"
	IOError                             = "58030"
	UndefinedFile                       = "58P01"
	DuplicateFile                       = "58P02"
	DiskFull                            = "53100"
	InsufficientResources               = "53000"
	ExternalRoutineException            = "38000"
	InternalError                       = "XX000"
	ConfigFileError                     = "F0000"
)

// Error is a PostgreSQL error as sent in an ErrorResponse.
type Error struct {
	Severity string // ERROR, FATAL, PANIC (or WARNING/NOTICE for notices)
	Code     string
	Message  string
	Detail   string
	Hint     string
	// Position is the 1-based character offset into the statement text, 0 when unknown.
	Position int
	// Where is the context PostgreSQL reports in CONTEXT lines (for a
	// COPY: `COPY t, line 2, column a: "zz"`).
	Where string
	// Object names of a constraint violation, as PostgreSQL reports them.
	SchemaName, TableName, ColumnName, ConstraintName string
	// cause keeps the original error for %w unwrapping and logs.
	cause error
	// caret is DuckDB's error location (LINE n and the caret's column in
	// that line's text), turned into Position by ResolvePosition.
	caretLine, caretCol int
	caretText           string
}

// ResolvePosition sets Position from DuckDB's caret, given the statement
// text DuckDB saw (only meaningful when that is the client's own text).
func (e *Error) ResolvePosition(sql string) {
	if e.Position > 0 {
		return
	}
	if off, ok := e.CaretOffset(sql); ok {
		e.Position = len([]rune(sql[:off])) + 1
	}
}

// CaretOffset is the byte offset in sql that DuckDB's caret points at.
func (e *Error) CaretOffset(sql string) (int, bool) {
	if e.caretLine == 0 {
		return 0, false
	}
	lines := strings.SplitAfter(sql, "\n")
	if e.caretLine > len(lines) {
		return 0, false
	}
	line := strings.TrimRight(lines[e.caretLine-1], "\r\n")
	before := len(strings.Join(lines[:e.caretLine-1], ""))
	// DuckDB shows a window of a long line, cut with "..." at its end, its
	// start or both; a window cut at its start is placed where its text
	// occurs in the line, if it occurs once.
	// The caret's column counts characters, not bytes.
	shown, cut := strings.CutSuffix(e.caretText, "...")
	if rest, ok := strings.CutPrefix(shown, "..."); ok && e.caretCol >= 3 {
		i := strings.Index(line, rest)
		if rest == "" || i < 0 || strings.Contains(line[i+1:], rest) || !cut && i+len(rest) != len(line) {
			return 0, false
		}
		off, ok := runeOffset(line[i:], e.caretCol-3)
		return before + i + off, ok
	}
	if !(line == e.caretText || cut && strings.HasPrefix(line, shown)) {
		return 0, false
	}
	off, ok := runeOffset(line, e.caretCol)
	return before + off, ok
}

// runeOffset is the byte offset of character n of s (len(s) for n equal to
// its length).
func runeOffset(s string, n int) (int, bool) {
	for i := range s {
		if n == 0 {
			return i, true
		}
		n--
	}
	return len(s), n == 0
}

// parseCaret reads DuckDB's "LINE n: text" / "   ^" rendering.
func parseCaret(msg string) (line, col int, text string) {
	i := strings.Index(msg, "\nLINE ")
	if i < 0 {
		return 0, 0, ""
	}
	rest := msg[i+len("\nLINE "):]
	num, after, ok := strings.Cut(rest, ": ")
	if !ok {
		return 0, 0, ""
	}
	n := 0
	if _, err := fmt.Sscanf(num, "%d", &n); err != nil {
		return 0, 0, ""
	}
	text, caretLine, ok := strings.Cut(after, "\n")
	if !ok {
		return 0, 0, ""
	}
	c := strings.IndexByte(caretLine, '^')
	prefix := len("LINE ") + len(num) + len(": ")
	if c < prefix {
		return 0, 0, ""
	}
	return n, c - prefix, text
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (SQLSTATE %s)", e.Severity, e.Message, e.Code)
}

func (e *Error) Unwrap() error { return e.cause }

// New returns an ERROR with the given SQLSTATE.
func New(code, format string, args ...any) *Error {
	return &Error{Severity: "ERROR", Code: code, Message: fmt.Sprintf(format, args...)}
}

// Fatal returns a FATAL error: the session ends after it is sent.
func Fatal(code, format string, args ...any) *Error {
	return &Error{Severity: "FATAL", Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithHint sets the hint and returns e.
func (e *Error) WithHint(h string) *Error { e.Hint = h; return e }

// WithDetail sets the detail and returns e.
func (e *Error) WithDetail(d string) *Error { e.Detail = d; return e }

// WithWhere sets the CONTEXT line and returns e.
func (e *Error) WithWhere(w string) *Error { e.Where = w; return e }

// WithPosition sets the cursor position and returns e.
func (e *Error) WithPosition(p int) *Error { e.Position = p; return e }

// From converts any error into an *Error. Errors that already are one pass
// through; context cancellation becomes 57014; DuckDB and pg_query errors are
// classified; anything else is an internal error.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		e := fromDuckDB(de)
		// An interrupted query reports its cancellation, not the interrupt.
		if e.Code == QueryCanceled || errors.Is(err, context.Canceled) {
			e = New(QueryCanceled, "canceling statement due to user request")
		}
		e.cause = err
		return e
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Severity: "ERROR", Code: QueryCanceled, Message: "canceling statement due to user request", cause: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Severity: "ERROR", Code: QueryCanceled, Message: "canceling statement due to statement timeout", cause: err}
	}
	var qe *pgparser.Error
	if errors.As(err, &qe) {
		return FromParser(qe)
	}
	return &Error{Severity: "ERROR", Code: InternalError, Message: err.Error(), cause: err}
}

// Tagged wraps an error raised inside DuckDB by a Go function of hopsql's
// (a scalar or table function) so that it reaches the client with code.
func Tagged(code string, err error) error {
	return fmt.Errorf("[%s] %w", code, err)
}

// FromParser converts a pg_query parse error, keeping its cursor position.
func FromParser(qe *pgparser.Error) *Error {
	code := SyntaxError
	msg := qe.Message
	switch {
	case strings.HasPrefix(msg, "unterminated"):
		code = SyntaxError
	case strings.Contains(msg, "invalid byte sequence"):
		code = CharacterNotInRepertoire
	case strings.HasPrefix(msg, "zero-length delimited identifier"):
		code = SyntaxError
	}
	return &Error{Severity: "ERROR", Code: code, Message: msg, Position: qe.Cursorpos, cause: qe}
}

// duckdbPrefix strips DuckDB's "<Kind> Error: " prefix and its
// "LINE 1: …" caret rendering, which PostgreSQL clients print themselves.
func duckdbMessage(msg string) string {
	if _, rest, ok := strings.Cut(msg, " Error: "); ok && !strings.Contains(msg[:len(msg)-len(rest)], "\n") {
		msg = rest
	}
	if i := strings.Index(msg, "\n\nLINE "); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, "\nLINE "); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

func fromDuckDB(de *duckdb.Error) *Error {
	msg := duckdbMessage(de.Msg)
	// An error raised by one of hopsql's own functions inside DuckDB carries
	// its SQLSTATE (see Tagged).
	if rest, ok := strings.CutPrefix(msg, "database/sql/driver: API error: "); ok {
		msg = rest
	}
	if len(msg) > 8 && msg[0] == '[' && msg[6] == ']' && msg[7] == ' ' {
		return New(msg[1:6], "%s", msg[8:])
	}
	lower := strings.ToLower(msg)
	code := InternalError
	switch de.Type {
	case duckdb.ErrorTypeCatalog:
		switch {
		case strings.Contains(lower, "already exists"):
			code = DuplicateTable
			if strings.Contains(lower, "schema") {
				code = DuplicateSchema
			}
		case strings.Contains(lower, "scalar function") || strings.Contains(lower, "table function") ||
			strings.Contains(lower, "aggregate function") || strings.Contains(lower, "macro function") ||
			strings.Contains(lower, "function with name"):
			code = UndefinedFunction
		case strings.Contains(lower, "schema with name") || strings.Contains(lower, "schema ") && strings.Contains(lower, "does not exist"):
			code = UndefinedSchema
		case strings.Contains(lower, "type with name"):
			code = UndefinedObject
		case strings.Contains(lower, "does not exist"):
			code = UndefinedTable
		case strings.Contains(lower, "cannot drop") || strings.Contains(lower, "depend"):
			code = DependentObjectsStillExist
		default:
			code = UndefinedObject
		}
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		code = SyntaxError
	case duckdb.ErrorTypeBinder:
		switch {
		case strings.Contains(lower, "referenced column") || strings.Contains(lower, "column") && strings.Contains(lower, "not found") ||
			strings.Contains(lower, "does not have a column"):
			code = UndefinedColumn
		case strings.Contains(lower, "ambiguous"):
			code = AmbiguousColumn
		case strings.Contains(lower, "no function matches") || strings.Contains(lower, "could not choose a best candidate"):
			code = UndefinedFunction
		case strings.Contains(lower, "must appear in the group by") || strings.Contains(lower, "group by clause"):
			code = GroupingError
		case strings.Contains(lower, "cannot compare") || strings.Contains(lower, "cannot mix") || strings.Contains(lower, "type"):
			code = DatatypeMismatch
		case strings.Contains(lower, "duplicate"):
			code = DuplicateColumn
		default:
			code = SyntaxErrorOrAccessRule
		}
	case duckdb.ErrorTypeConversion:
		code = InvalidTextRepresentation
		switch {
		case strings.Contains(lower, "out of range") || strings.Contains(lower, "overflow"):
			code = NumericValueOutOfRange
		case strings.Contains(lower, "date") || strings.Contains(lower, "timestamp") || strings.Contains(lower, "time "):
			code = InvalidDatetimeFormat
		}
	case duckdb.ErrorTypeOutOfRange:
		code = NumericValueOutOfRange
	case duckdb.ErrorTypeDivideByZero:
		code = DivisionByZero
	case duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType:
		code = DatatypeMismatch
	case duckdb.ErrorTypeConstraint:
		switch {
		case strings.Contains(lower, "not null"):
			code = NotNullViolation
		case strings.Contains(lower, "duplicate key") || strings.Contains(lower, "unique") || strings.Contains(lower, "primary key"):
			code = UniqueViolation
		case strings.Contains(lower, "foreign key"):
			code = ForeignKeyViolation
		case strings.Contains(lower, "check constraint"):
			code = CheckViolation
		default:
			code = IntegrityConstraintViolation
		}
	case duckdb.ErrorTypeTransaction:
		code = SerializationFailure
		if strings.Contains(lower, "no transaction") || strings.Contains(lower, "cannot commit - no transaction") {
			code = NoActiveSQLTransaction
		} else if strings.Contains(lower, "already active") || strings.Contains(lower, "cannot start a transaction") {
			code = ActiveSQLTransaction
		}
	case duckdb.ErrorTypeInterrupt:
		code = QueryCanceled
	case duckdb.ErrorTypeNotImplemented:
		code = FeatureNotSupported
	case duckdb.ErrorTypeOutOfMemory:
		code = OutOfMemory
	case duckdb.ErrorTypeIO:
		code = IOError
	case duckdb.ErrorTypePermission:
		code = InsufficientPrivilege
	case duckdb.ErrorTypeDependency:
		code = DependentObjectsStillExist
	case duckdb.ErrorTypeSequence:
		code = ObjectNotInPrerequisiteState
	case duckdb.ErrorTypeParameterNotResolved:
		code = IndeterminateDatatype
	case duckdb.ErrorTypeParameterNotAllowed:
		code = SyntaxError
	case duckdb.ErrorTypeSettings:
		code = UndefinedObject
	case duckdb.ErrorTypeInvalidInput:
		code = InvalidParameterValue
		switch {
		case strings.Contains(lower, "division by zero"):
			code = DivisionByZero
		case strings.Contains(lower, "utf-8") || strings.Contains(lower, "utf8"):
			code = CharacterNotInRepertoire
		case strings.Contains(lower, "csv") || strings.Contains(lower, "could not convert"):
			code = BadCopyFileFormat
		}
	case duckdb.ErrorTypeInternal, duckdb.ErrorTypeFatal:
		code = InternalError
	default:
		if strings.Contains(lower, "division by zero") {
			code = DivisionByZero
		}
	}
	e := &Error{Severity: "ERROR", Code: code, Message: pgMessage(code, msg)}
	for _, m := range duckMessages {
		// A constraint error's message holds user data; its type says all.
		if de.Type != duckdb.ErrorTypeConstraint && strings.Contains(lower, m.contains) {
			e.Code, e.Message = m.code, m.message
			break
		}
	}
	switch code {
	case UniqueViolation:
		e.Detail = uniqueDetail(msg)
	case NotNullViolation:
		// DuckDB: "NOT NULL constraint failed: t.col".
		if _, tc, ok := strings.Cut(msg, "NOT NULL constraint failed: "); ok {
			if t, c, ok := strings.Cut(strings.TrimSpace(tc), "."); ok {
				e.SchemaName, e.TableName, e.ColumnName = "public", t, c
				e.Message = fmt.Sprintf("null value in column %q of relation %q violates not-null constraint", c, t)
			}
		}
	}
	e.caretLine, e.caretCol, e.caretText = parseCaret(de.Msg)
	return e
}

// uniqueDetail turns DuckDB's `Duplicate key "id: 1, k: 2"` into
// PostgreSQL's DETAIL `Key (id, k)=(1, 2) already exists.`
func uniqueDetail(msg string) string {
	_, rest, ok := strings.Cut(msg, `Duplicate key "`)
	if !ok {
		return ""
	}
	kv, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	var keys, vals []string
	for _, part := range strings.Split(kv, ", ") {
		k, v, ok := strings.Cut(part, ": ")
		if !ok {
			return ""
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return fmt.Sprintf("Key (%s)=(%s) already exists.", strings.Join(keys, ", "), strings.Join(vals, ", "))
}

// duckMessages are DuckDB errors whose type does not tell PostgreSQL's
// SQLSTATE: matched on the lower-cased message, they get PostgreSQL's code
// and message (applications catch some of these: psycopg2's
// CardinalityViolation, DataError).
var duckMessages = []struct{ contains, code, message string }{
	{"more than one row returned by a subquery", CardinalityViolation, "more than one row returned by a subquery used as an expression"},
	{"date field value out of range", DatetimeFieldOverflow, "date/time field value out of range"},
	{"date out of range", DatetimeFieldOverflow, "date/time field value out of range"},
	{"timestamp field value out of range", DatetimeFieldOverflow, "date/time field value out of range"},
	{"overflow in multiplication of interval", DatetimeFieldOverflow, "interval out of range"},
	{"interval out of range", DatetimeFieldOverflow, "interval out of range"},
	{"cannot take logarithm of zero", InvalidArgumentForLogarithm, "cannot take logarithm of zero"},
	{"cannot take logarithm of a negative number", InvalidArgumentForLogarithm, "cannot take logarithm of a negative number"},
	{"cannot take square root of a negative number", InvalidArgumentForPowerFunction, "cannot take square root of a negative number"},
	{"subquery returns", SyntaxError, "subquery must return only one column"},
	{"order term out of range", InvalidColumnReference, "ORDER BY position is not in select list"},
}

// pgMessage rewords DuckDB's most common messages the way PostgreSQL words
// them; clients and people match on these.
func pgMessage(code, msg string) string {
	first, _, _ := strings.Cut(msg, "\n")
	name := func(after, before string) (string, bool) {
		_, rest, ok := strings.Cut(first, after)
		if !ok {
			return "", false
		}
		n, _, ok := strings.Cut(rest, before)
		return strings.Trim(n, `"`), ok
	}
	switch code {
	case UndefinedTable:
		if n, ok := name("with name ", " does not exist"); ok {
			return fmt.Sprintf("relation %q does not exist", n)
		}
	case UndefinedColumn:
		if n, ok := name("Referenced column ", " was not found"); ok {
			return fmt.Sprintf("column %q does not exist", n)
		}
		if n, ok := name("Referenced column ", " not found"); ok {
			return fmt.Sprintf("column %q does not exist", n)
		}
	case UndefinedFunction:
		if n, ok := name("Function with name ", " does not exist"); ok {
			return fmt.Sprintf("function %s does not exist", n)
		}
	case UniqueViolation:
		if strings.HasPrefix(first, "Duplicate key") {
			return "duplicate key value violates unique constraint"
		}
	case DuplicateTable:
		if n, ok := name("with name ", " already exists"); ok {
			return fmt.Sprintf("relation %q already exists", strings.Trim(n, `"`))
		}
	}
	return strings.TrimSuffix(first, "!")
}

// WithUniqueTarget completes a unique violation with the table it happened
// on: PostgreSQL's constraint name (t_pkey for the primary key, t_cols_key
// otherwise), the message naming it, and the object fields.
func (e *Error) WithUniqueTarget(schema, table string) *Error {
	if e.Code != UniqueViolation || e.ConstraintName != "" {
		return e
	}
	_, rest, ok := strings.Cut(e.Detail, "Key (")
	cols, _, ok2 := strings.Cut(rest, ")=")
	if !ok || !ok2 {
		return e
	}
	name := table + "_pkey"
	orig := e.Message
	if e.cause != nil {
		orig = e.cause.Error()
	}
	if !strings.Contains(strings.ToLower(orig), "primary key") {
		name = table + "_" + strings.ReplaceAll(cols, ", ", "_") + "_key"
	}
	e.SchemaName, e.TableName, e.ConstraintName = schema, table, name
	e.Message = fmt.Sprintf("duplicate key value violates unique constraint %q", name)
	return e
}
