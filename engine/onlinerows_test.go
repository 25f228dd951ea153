package engine

import (
	"database/sql/driver"
	"math"
	"reflect"
	"strconv"
	"testing"
)

func TestCanonicalInt(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 9, 10, 42, -42, 1e18, math.MaxInt64, math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1} {
		got, ok := canonicalInt([]byte(strconv.FormatInt(n, 10)))
		if !ok || got != n {
			t.Errorf("%d: got %d, %v", n, got, ok)
		}
	}
	// Not how FormatInt writes any int64: these stay text keys, so that
	// the text "007" and the integer 7 remain different keys, as their
	// encodings are.
	for _, s := range []string{"", "-", "007", "-0", "00", "+1", "1.0", "1e3", " 1", "1 ", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "12a", "\x001"} {
		if n, ok := canonicalInt([]byte(s)); ok {
			t.Errorf("%q parsed as %d", s, n)
		}
	}
}

// Keys whose encodings are equal are one entry; others are not.
func TestOnlineRowsKeys(t *testing.T) {
	r := newOnlineRows()
	put := func(k string, v int64) { r.put([]byte(k), []driver.Value{v}) }
	put("7", 1)
	put("007", 2)
	put("-7", 3)
	put("7\x00x", 4)
	put("7", 5) // replaces
	for k, want := range map[string]int64{"7": 5, "007": 2, "-7": 3, "7\x00x": 4} {
		row, ok := r.get([]byte(k))
		if !ok || row[0] != want {
			t.Errorf("%q: %v %v, want %d", k, row, ok, want)
		}
	}
	if _, ok := r.get([]byte("8")); ok {
		t.Error("8 found")
	}
	if r.len() != 4 {
		t.Errorf("len %d, want 4", r.len())
	}
}

// pick returns the found keys' rows, each its own slice of the selected
// values: writing one (a served transform does) leaves the others and the
// store untouched.
func TestOnlineRowsPick(t *testing.T) {
	r := newOnlineRows()
	r.put([]byte("1"), []driver.Value{int64(1), "a", 1.5})
	r.put([]byte("x"), []driver.Value{"x", "b", 2.5})
	got := r.pick([]string{"x", "missing", "1"}, []int{2, 0})
	want := [][]driver.Value{{2.5, "x"}, {1.5, int64(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pick: %v, want %v", got, want)
	}
	got[0][0] = 99.0
	got[0] = append(got[0], "grown")
	if got[1][0] != 1.5 {
		t.Fatalf("writing one picked row changed another: %v", got)
	}
	if row, _ := r.get([]byte("x")); row[2] != 2.5 {
		t.Fatalf("writing a picked row changed the store: %v", row)
	}
}
