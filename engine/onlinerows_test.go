package engine

import (
	"database/sql/driver"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seededRandT is a randomized test's source; the seed is logged so that a
// failure can be replayed.
func seededRandT(t *testing.T) *rand.Rand {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewSource(seed))
}

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
	r := newOnlineRows(1)
	put := func(k string, v int64) { r.put([]byte(k), []driver.Value{v}) }
	put("7", 1)
	put("007", 2)
	put("-7", 3)
	put("7\x00x", 4)
	put("7", 5) // replaces
	for k, want := range map[string]int64{"7": 5, "007": 2, "-7": 3, "7\x00x": 4} {
		slot, ok := r.get([]byte(k))
		if !ok || r.value(slot, 0) != want {
			t.Errorf("%q: %v %v, want %d", k, slot, ok, want)
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
	r := newOnlineRows(3)
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
	if slot, _ := r.get([]byte("x")); r.value(slot, 0) != 2.5 && r.value(slot, 2) != 2.5 {
		t.Fatalf("writing a picked row changed the store")
	}
}

type boxedThing struct{ a, b int }

// Every kind of value comes back as it went in: the packed kinds as the
// same type and value, the others as the value itself.
func TestOnlineRowsValues(t *testing.T) {
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	long := strings.Repeat("x", refMaxLen+1)
	vals := []driver.Value{
		nil, int64(-1 << 62), int32(-5), int16(300), int8(-7), uint64(1 << 63), uint32(7), uint16(8), uint8(9),
		3.25, float32(-1.5), math.Inf(-1), true, false, "", "héllo", []byte{}, []byte{0, 1, 2}, long,
		ts, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(294000, 1, 1, 0, 0, 0, 0, time.UTC),
		ts.Add(1),                        // nanoseconds: boxed
		ts.In(time.FixedZone("x", 3600)), // another zone: boxed
		boxedThing{1, 2}, []any{int64(1), "a"},
	}
	r := newOnlineRows(len(vals))
	r.put([]byte("k"), vals)
	slot, _ := r.get([]byte("k"))
	for i, want := range vals {
		got := r.value(slot, i)
		if !reflect.DeepEqual(got, want) {
			if wt, ok := want.(time.Time); ok {
				if gt, ok := got.(time.Time); ok && gt.Equal(wt) && gt.Location() == wt.Location() {
					continue
				}
			}
			t.Errorf("column %d: got %#v (%T), want %#v (%T)", i, got, got, want, want)
		}
	}
	r.put([]byte("nan"), append([]driver.Value{math.NaN()}, vals[1:]...))
	if s, _ := r.get([]byte("nan")); !math.IsNaN(r.value(s, 0).(float64)) {
		t.Error("NaN did not come back")
	}
}

// A random run of puts, replacements and deletes, by key and by slot,
// over integer and text keys, ends with the same rows as a plain map of
// the same operations; the arena is compacted on the way.
func TestOnlineRowsMatchesMap(t *testing.T) {
	rng := seededRandT(t)
	r := newOnlineRows(3)
	model := map[string][]driver.Value{}
	slots := map[string]int32{}
	key := func() string {
		n := rng.Intn(500)
		if rng.Intn(3) == 0 {
			return "k" + strconv.Itoa(n)
		}
		return strconv.Itoa(n - 250)
	}
	for op := 0; op < 50000; op++ {
		k := key()
		switch rng.Intn(6) {
		case 0:
			if slot, ok := slots[k]; ok {
				r.delSlot(slot)
			}
			delete(model, k)
			delete(slots, k)
		case 1:
			r.del([]byte(k))
			delete(model, k)
			delete(slots, k)
		default:
			row := []driver.Value{int64(rng.Intn(1000)), strings.Repeat(string(rune('a'+rng.Intn(26))), rng.Intn(4000)), nil}
			if rng.Intn(2) == 0 {
				row[2] = rng.Float64()
			}
			slot, existed := r.put([]byte(k), row)
			if _, had := model[k]; had != existed {
				t.Fatalf("op %d: put %q existed=%v, model %v", op, k, existed, had)
			}
			model[k], slots[k] = row, slot
		}
	}
	if r.len() != len(model) {
		t.Fatalf("len %d, model %d", r.len(), len(model))
	}
	for k, want := range model {
		slot, ok := r.get([]byte(k))
		if !ok || slot != slots[k] {
			t.Fatalf("%q: slot %d %v, want %d", k, slot, ok, slots[k])
		}
		for c := range want {
			if got := r.value(slot, c); !reflect.DeepEqual(got, want[c]) {
				t.Fatalf("%q column %d: %v, want %v", k, c, got, want[c])
			}
		}
	}
	if len(r.arena) > 8*(r.len()*4000+1<<20) {
		t.Errorf("arena %d bytes for %d rows: not compacted", len(r.arena), r.len())
	}
	if r.dead > len(r.arena) {
		t.Errorf("dead %d > arena %d", r.dead, len(r.arena))
	}
}

// A string read back stays what it was after its row is replaced and the
// arena compacted.
func TestOnlineRowsStringsOutliveCompaction(t *testing.T) {
	r := newOnlineRows(1)
	big := strings.Repeat("a", 1<<20)
	r.put([]byte("1"), []driver.Value{big})
	slot, _ := r.get([]byte("1"))
	held := r.value(slot, 0).(string)
	for i := 0; i < 4; i++ {
		r.put([]byte("1"), []driver.Value{strings.Repeat(string(rune('b'+i)), 1<<20)})
	}
	if held != big {
		t.Fatal("a string read back changed")
	}
	if len(r.arena) >= 5<<20 {
		t.Fatalf("arena %d bytes: not compacted", len(r.arena))
	}
}
