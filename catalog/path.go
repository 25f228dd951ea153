package catalog

import (
	"strings"
	"unicode/utf8"
)

// Limits on names and paths, as in HDFS (dfs.namenode.fs-limits.*) and POSIX.
const (
	MaxNameLen = 255
	MaxPathLen = 4096
)

// SplitPath validates an absolute path and returns its components ("/" has
// none). It confines every path to the namespace: "..", ".", empty segments
// ("//"), NUL bytes, invalid UTF-8 and over-long names or paths are rejected,
// never normalised away, so a path means exactly what it says. One trailing
// slash is accepted ("/Projects/p/").
func SplitPath(p string) ([]string, error) {
	if p == "" {
		return nil, errorf(CodeInvalid, "empty path")
	}
	if len(p) > MaxPathLen {
		return nil, errorf(CodeInvalid, "path is longer than %d bytes", MaxPathLen)
	}
	if p[0] != '/' {
		return nil, errorf(CodeInvalid, "path %q is not absolute", p)
	}
	if !utf8.ValidString(p) {
		return nil, errorf(CodeInvalid, "path is not valid UTF-8")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, errorf(CodeInvalid, "path contains a NUL byte")
	}
	if p == "/" {
		return nil, nil
	}
	p = strings.TrimSuffix(p[1:], "/")
	parts := strings.Split(p, "/")
	for _, s := range parts {
		switch {
		case s == "":
			return nil, errorf(CodeInvalid, "path %q has an empty component", "/"+p)
		case s == "." || s == "..":
			return nil, errorf(CodeInvalid, "path %q contains %q", "/"+p, s)
		case len(s) > MaxNameLen:
			return nil, errorf(CodeInvalid, "path component is longer than %d bytes", MaxNameLen)
		}
	}
	return parts, nil
}

// CleanPath returns the canonical form of a valid path (no trailing slash).
func CleanPath(p string) (string, error) {
	parts, err := SplitPath(p)
	if err != nil {
		return "", err
	}
	return "/" + strings.Join(parts, "/"), nil
}

// splitLoose counts components for id allocation; validation happens at apply.
func splitLoose(p string) []string {
	parts, err := SplitPath(p)
	if err != nil {
		return nil
	}
	return parts
}
