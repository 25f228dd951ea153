package catalog

import (
	"errors"
	"fmt"
)

// Code classifies a catalog error so that each front end (SQL, WebHDFS, the
// CLI) can report it its own way.
type Code string

const (
	CodeNotFound     Code = "not_found"
	CodeExists       Code = "exists"
	CodeNotDir       Code = "not_dir"
	CodeIsDir        Code = "is_dir"
	CodeNotEmpty     Code = "not_empty"
	CodeInvalid      Code = "invalid"
	CodeQuota        Code = "quota"
	CodePermission   Code = "permission"
	CodeNotLeader    Code = "not_leader"
	CodeConflict     Code = "conflict" // a write-write conflict: retry the transaction
	CodeXattrMissing Code = "xattr_missing"
	CodeXattrExists  Code = "xattr_exists"
)

// Error is a catalog error with a stable code.
type Error struct {
	Code Code   `json:"code"`
	Msg  string `json:"msg"`
}

func (e *Error) Error() string { return e.Msg }

// Is makes errors.Is(err, catalog.ErrNotFound) and friends work.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Msg == "" && t.Code == e.Code
}

// Sentinels for errors.Is (any code works the same way: &Error{Code: c}).
var (
	ErrNotFound = &Error{Code: CodeNotFound}
	ErrExists   = &Error{Code: CodeExists}
	ErrQuota    = &Error{Code: CodeQuota}
	ErrConflict = &Error{Code: CodeConflict}
)

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of a catalog error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
