package engine

import "database/sql/driver"

// onlineRows is an online store's rows by encoded key (appendOnlineKey).
// A key that is one integer — the usual entity id — is kept in a map by
// its int64 value: a lookup in a string-keyed map of a million rows costs
// a cache miss for the key's bytes on top of the bucket's, and that miss
// was most of a 100-key lookup's server time. Every other key (several
// columns, text, floats) is kept by its encoding. The integer form is
// taken only for the canonical decimal text of an int64, so two keys are
// the same entry exactly when their encodings are equal, as before.
type onlineRows struct {
	ints map[int64][]driver.Value
	strs map[string][]driver.Value
}

func newOnlineRows() *onlineRows {
	return &onlineRows{ints: map[int64][]driver.Value{}, strs: map[string][]driver.Value{}}
}

func (r *onlineRows) get(k []byte) ([]driver.Value, bool) {
	if n, ok := canonicalInt(k); ok {
		row, ok := r.ints[n]
		return row, ok
	}
	row, ok := r.strs[string(k)]
	return row, ok
}

func (r *onlineRows) put(k []byte, row []driver.Value) {
	if n, ok := canonicalInt(k); ok {
		r.ints[n] = row
		return
	}
	r.strs[string(k)] = row
}

func (r *onlineRows) del(k []byte) {
	if n, ok := canonicalInt(k); ok {
		delete(r.ints, n)
		return
	}
	delete(r.strs, string(k))
}

// pick returns, for each key found, the row's values at idx: the rows of
// a lookup, in the keys' order (a missing key has none).
func (r *onlineRows) pick(keys []string, idx []int) [][]driver.Value {
	out := make([][]driver.Value, 0, len(keys))
	// One backing array for all the rows: a 100-key lookup made 100 small
	// slices, garbage that shows in the latency tail under load.
	backing := make([]driver.Value, len(keys)*len(idx))
	for _, k := range keys {
		row, ok := r.get([]byte(k))
		if !ok {
			continue
		}
		v := backing[:len(idx):len(idx)]
		backing = backing[len(idx):]
		for i, j := range idx {
			v[i] = row[j]
		}
		out = append(out, v)
	}
	return out
}

// len counts the entries; a store not loaded yet (nil) has none.
func (r *onlineRows) len() int {
	if r == nil {
		return 0
	}
	return len(r.ints) + len(r.strs)
}

// canonicalInt parses k if it is exactly how strconv.FormatInt writes an
// int64: an optional minus, no leading zeros, no "-0", in range.
func canonicalInt(k []byte) (int64, bool) {
	s := k
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 || (s[0] == '0' && (len(s) > 1 || neg)) {
		return 0, false
	}
	var u uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u), true
	case neg && u <= 1<<63:
		return -int64(u-1) - 1, true // -(2^63) included
	}
	return 0, false
}
