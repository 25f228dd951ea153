package engine

import "testing"

// The key index's bookkeeping: a hash names the one file holding it; a
// hash two files hold (a collision) makes every file a candidate until
// both are gone; removed files free their hashes and slots.
func TestKeyIndexBookkeeping(t *testing.T) {
	x := newKeyIndex()
	all := map[string]bool{"a": true, "b": true, "c": true}
	x.add("a", []uint64{1, 2})
	x.add("b", []uint64{3})
	for _, tc := range []struct {
		keys  []uint64
		want  string
		exact bool
	}{
		{[]uint64{9}, "", true},
		{[]uint64{2}, "a", true},
		{[]uint64{3, 9}, "b", true},
		{[]uint64{1, 3}, "a,b", true},
	} {
		got, exact := x.candidates(tc.keys, all)
		if exact != tc.exact || join(got) != tc.want {
			t.Fatalf("candidates %v: %v %v, want %q %v", tc.keys, got, exact, tc.want, tc.exact)
		}
	}
	if got, _ := x.candidates([]uint64{2}, map[string]bool{"b": true}); len(got) != 0 {
		t.Fatalf("a file outside the checked set is no candidate: %v", got)
	}
	x.add("c", []uint64{3}) // collision with b
	if _, exact := x.candidates([]uint64{3}, all); exact {
		t.Fatal("a hash two files hold must not name one of them")
	}
	x.remove("b")
	if _, exact := x.candidates([]uint64{3}, all); exact {
		t.Fatal("still ambiguous while c holds it")
	}
	x.remove("c")
	if got, exact := x.candidates([]uint64{3}, all); !exact || len(got) != 0 {
		t.Fatalf("after both went: %v %v", got, exact)
	}
	x.remove("a")
	x.add("d", []uint64{1})
	if got, _ := x.candidates([]uint64{1, 2}, map[string]bool{"d": true}); join(got) != "d" || x.rows != 1 || len(x.slots) != 3 {
		t.Fatalf("slots reused: %v rows=%d slots=%v", got, x.rows, x.slots)
	}
	h1, ok1 := x.hashKey([]*string{ptr("1"), ptr("2")})
	h2, ok2 := x.hashKey([]*string{ptr("12"), ptr("")})
	if !ok1 || !ok2 || h1 == h2 {
		t.Fatal("key values are hashed with their lengths: (1,2) and (12,'') differ")
	}
	if _, ok := x.hashKey([]*string{ptr("1"), nil}); ok {
		t.Fatal("a key with a NULL is never hashed")
	}
}

func ptr(s string) *string { return &s }

func join(m map[string]bool) string {
	var out []string
	for _, k := range []string{"a", "b", "c", "d"} {
		if m[k] {
			out = append(out, k)
		}
	}
	s := ""
	for i, k := range out {
		if i > 0 {
			s += ","
		}
		s += k
	}
	return s
}
