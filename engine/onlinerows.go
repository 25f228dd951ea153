package engine

import (
	"database/sql/driver"
	"math"
	"time"
	"unsafe"
)

// onlineRows is an online store's rows by encoded key (appendOnlineKey),
// held without Go pointers wherever the values allow.
//
// Why no pointers: the store lives as long as the process and holds a
// million values or more (a point-lookup table, an online feature group).
// Kept as driver.Values — a boxed object per number or string — every
// garbage collection had to mark them all: under 16 clients of online
// lookups the collector took about a tenth of the server's CPU, and its
// cycles were most of the latency tail (p99 1.6–2.1 ms; 1.2–1.3 ms with the
// collector off). Here a row is a slot: per column a tag byte and a 64-bit
// payload (the number itself, a timestamp's microseconds, or where a
// string's bytes are in one shared byte arena); slot numbers sit in maps of
// plain integers. Nothing of that is scanned. Values of other types
// (decimals, intervals, lists, …) stay boxed in a side table.
//
// A key that is one integer — the usual entity id — is kept by its int64
// value: a lookup in a string-keyed map of a million rows costs a cache
// miss for the key's bytes on top of the bucket's. Every other key
// (several columns, text, floats) is kept by its encoding. The integer
// form is taken only for the canonical decimal text of an int64, so two
// keys are the same entry exactly when their encodings are equal.
//
// Values read back are new driver.Values (boxed again, short-lived): the
// arena's bytes are never written twice, so a string read back may point
// into it.
type onlineRows struct {
	width int
	ints  map[int64]int32
	strs  map[string]int32

	// Per slot: how it is keyed (slotFree, slotInt, slotText) and the key
	// (the int64, or an arena reference to a text key), so that delSlot
	// can remove it from its map.
	slotKind []byte
	slotKey  []uint64
	// Per slot, width cells each: a tag (cell*) and a payload.
	tags []byte
	vals []uint64

	arena []byte
	dead  int // arena bytes no live cell or key refers to
	boxed []driver.Value
	free  []int32 // free slots
	freeB []int32 // free boxed entries
}

const (
	slotFree byte = iota
	slotInt
	slotText
)

// Cell tags.
const (
	cellNull byte = iota
	cellInt64
	cellInt32
	cellInt16
	cellInt8
	cellUint64
	cellUint32
	cellUint16
	cellUint8
	cellFloat64
	cellFloat32
	cellBool
	cellString // payload: arena reference
	cellBytes  // payload: arena reference
	cellTime   // payload: microseconds since the epoch, UTC
	cellBoxed  // payload: index into boxed
)

// An arena reference packs an offset (40 bits) and a length (24 bits);
// longer strings are boxed.
const (
	refLenBits = 24
	refMaxLen  = 1<<refLenBits - 1
	refMaxOff  = 1<<(64-refLenBits) - 1
)

func newOnlineRows(width int) *onlineRows {
	return &onlineRows{width: width, ints: map[int64]int32{}, strs: map[string]int32{}}
}

// get returns the slot of key k.
func (r *onlineRows) get(k []byte) (int32, bool) {
	if n, ok := canonicalInt(k); ok {
		slot, ok := r.ints[n]
		return slot, ok
	}
	slot, ok := r.strs[string(k)]
	return slot, ok
}

// put stores row (width values) under key k, replacing the row there;
// it returns the row's slot and whether the key was already present.
func (r *onlineRows) put(k []byte, row []driver.Value) (int32, bool) {
	slot, existed := r.get(k)
	if existed {
		r.clearCells(slot)
	} else {
		slot = r.newSlot()
		if n, ok := canonicalInt(k); ok {
			r.ints[n] = slot
			r.slotKind[slot], r.slotKey[slot] = slotInt, uint64(n)
		} else {
			ref, _ := r.appendArena(k)
			r.strs[string(k)] = slot
			r.slotKind[slot], r.slotKey[slot] = slotText, ref
		}
	}
	base := int(slot) * r.width
	for i := 0; i < r.width; i++ {
		var v driver.Value
		if i < len(row) {
			v = row[i]
		}
		r.tags[base+i], r.vals[base+i] = r.encode(v)
	}
	if existed {
		r.maybeCompact()
	}
	return slot, existed
}

// del removes key k's row, if any.
func (r *onlineRows) del(k []byte) {
	if slot, ok := r.get(k); ok {
		r.delSlot(slot)
	}
}

// delSlot removes the row in slot.
func (r *onlineRows) delSlot(slot int32) {
	switch r.slotKind[slot] {
	case slotFree:
		return
	case slotInt:
		delete(r.ints, int64(r.slotKey[slot]))
	case slotText:
		ref := r.slotKey[slot]
		delete(r.strs, r.arenaString(ref))
		r.dead += int(ref & refMaxLen)
	}
	r.clearCells(slot)
	r.slotKind[slot], r.slotKey[slot] = slotFree, 0
	r.free = append(r.free, slot)
	r.maybeCompact()
}

// value returns column col of the row in slot.
func (r *onlineRows) value(slot int32, col int) driver.Value {
	i := int(slot)*r.width + col
	return r.decode(r.tags[i], r.vals[i])
}

// pick returns, for each key found, the row's values at idx: the rows of
// a lookup, in the keys' order (a missing key has none).
func (r *onlineRows) pick(keys []string, idx []int) [][]driver.Value {
	out := make([][]driver.Value, 0, len(keys))
	// One backing array for all the rows: a 100-key lookup made 100 small
	// slices, garbage that shows in the latency tail under load.
	backing := make([]driver.Value, len(keys)*len(idx))
	for _, k := range keys {
		slot, ok := r.get(unsafe.Slice(unsafe.StringData(k), len(k)))
		if !ok {
			continue
		}
		v := backing[:len(idx):len(idx)]
		backing = backing[len(idx):]
		for i, j := range idx {
			v[i] = r.value(slot, j)
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

func (r *onlineRows) newSlot() int32 {
	if n := len(r.free); n > 0 {
		slot := r.free[n-1]
		r.free = r.free[:n-1]
		return slot
	}
	slot := int32(len(r.slotKind))
	r.slotKind = append(r.slotKind, slotFree)
	r.slotKey = append(r.slotKey, 0)
	for i := 0; i < r.width; i++ {
		r.tags = append(r.tags, cellNull)
		r.vals = append(r.vals, 0)
	}
	return slot
}

// clearCells releases what a slot's cells hold (arena bytes, boxed values).
func (r *onlineRows) clearCells(slot int32) {
	base := int(slot) * r.width
	for i := base; i < base+r.width; i++ {
		switch r.tags[i] {
		case cellString, cellBytes:
			r.dead += int(r.vals[i] & refMaxLen)
		case cellBoxed:
			r.boxed[r.vals[i]] = nil
			r.freeB = append(r.freeB, int32(r.vals[i]))
		}
		r.tags[i], r.vals[i] = cellNull, 0
	}
}

func (r *onlineRows) encode(v driver.Value) (byte, uint64) {
	switch x := v.(type) {
	case nil:
		return cellNull, 0
	case int64:
		return cellInt64, uint64(x)
	case int32:
		return cellInt32, uint64(x)
	case int16:
		return cellInt16, uint64(x)
	case int8:
		return cellInt8, uint64(x)
	case uint64:
		return cellUint64, x
	case uint32:
		return cellUint32, uint64(x)
	case uint16:
		return cellUint16, uint64(x)
	case uint8:
		return cellUint8, uint64(x)
	case float64:
		return cellFloat64, math.Float64bits(x)
	case float32:
		return cellFloat32, uint64(math.Float32bits(x))
	case bool:
		if x {
			return cellBool, 1
		}
		return cellBool, 0
	case string:
		if ref, ok := r.appendArena(unsafe.Slice(unsafe.StringData(x), len(x))); ok {
			return cellString, ref
		}
	case []byte:
		if ref, ok := r.appendArena(x); ok {
			return cellBytes, ref
		}
	case time.Time:
		// UTC at microsecond precision, as DuckDB returns timestamps and
		// dates, and only where the microseconds give the same time back.
		if x.Location() == time.UTC && x.Nanosecond()%1000 == 0 {
			if m := x.UnixMicro(); time.UnixMicro(m).Equal(x) {
				return cellTime, uint64(m)
			}
		}
	}
	return cellBoxed, uint64(r.box(v))
}

func (r *onlineRows) decode(tag byte, p uint64) driver.Value {
	switch tag {
	case cellInt64:
		return int64(p)
	case cellInt32:
		return int32(p)
	case cellInt16:
		return int16(p)
	case cellInt8:
		return int8(p)
	case cellUint64:
		return p
	case cellUint32:
		return uint32(p)
	case cellUint16:
		return uint16(p)
	case cellUint8:
		return uint8(p)
	case cellFloat64:
		return math.Float64frombits(p)
	case cellFloat32:
		return math.Float32frombits(uint32(p))
	case cellBool:
		return p == 1
	case cellString:
		return r.arenaString(p)
	case cellBytes:
		// A copy: the arena's bytes must never change.
		return append([]byte{}, r.arenaString(p)...)
	case cellTime:
		return time.UnixMicro(int64(p)).UTC()
	case cellBoxed:
		return r.boxed[p]
	}
	return nil
}

func (r *onlineRows) box(v driver.Value) int {
	if n := len(r.freeB); n > 0 {
		i := r.freeB[n-1]
		r.freeB = r.freeB[:n-1]
		r.boxed[i] = v
		return int(i)
	}
	r.boxed = append(r.boxed, v)
	return len(r.boxed) - 1
}

// appendArena copies b into the arena; false when it does not fit a reference.
func (r *onlineRows) appendArena(b []byte) (uint64, bool) {
	if len(b) > refMaxLen || len(r.arena) > refMaxOff {
		return 0, false
	}
	ref := uint64(len(r.arena))<<refLenBits | uint64(len(b))
	r.arena = append(r.arena, b...)
	return ref, true
}

func (r *onlineRows) arenaString(ref uint64) string {
	n := int(ref & refMaxLen)
	if n == 0 {
		return ""
	}
	return unsafe.String(&r.arena[ref>>refLenBits], n)
}

// maybeCompact copies the live bytes to a new arena once more than half
// of it (and over a MiB) is dead. The old arena is left as it is: strings
// read from it stay valid.
func (r *onlineRows) maybeCompact() {
	if r.dead < 1<<20 || r.dead < len(r.arena)/2 {
		return
	}
	old := r.arena
	r.arena, r.dead = make([]byte, 0, len(old)-r.dead), 0
	move := func(ref uint64) uint64 {
		nref, _ := r.appendArena(old[ref>>refLenBits : ref>>refLenBits+ref&refMaxLen])
		return nref
	}
	for slot, kind := range r.slotKind {
		if kind == slotFree {
			continue
		}
		if kind == slotText {
			r.slotKey[slot] = move(r.slotKey[slot])
		}
		base := slot * r.width
		for i := base; i < base+r.width; i++ {
			if t := r.tags[i]; t == cellString || t == cellBytes {
				r.vals[i] = move(r.vals[i])
			}
		}
	}
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
