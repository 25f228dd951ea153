package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The binary COPY stream must carry exactly the rows of the CSV one (both
// servers load both, and (d) and (e) read what was loaded): decode it by
// the format's rules and print each row as the CSV generator does.
func TestBinReaderMatchesCSV(t *testing.T) {
	const n = 20000 // several 64 KiB refills
	data, err := io.ReadAll(&binReader{n: n})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00") {
		t.Fatalf("header % x", data[:19])
	}
	p := data[19:]
	next := func(k int) []byte {
		if len(p) < k {
			t.Fatalf("stream ends early")
		}
		b := p[:k]
		p = p[k:]
		return b
	}
	field := func() []byte { return next(int(binary.BigEndian.Uint32(next(4)))) }
	csv := bufio.NewScanner(&csvReader{n: n})
	for i := 0; i < n; i++ {
		if c := binary.BigEndian.Uint16(next(2)); c != 4 {
			t.Fatalf("row %d: %d fields", i, c)
		}
		id := int64(binary.BigEndian.Uint64(field()))
		x := math.Float64frombits(binary.BigEndian.Uint64(field()))
		s := string(field())
		ts := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(int64(binary.BigEndian.Uint64(field()))) * time.Microsecond)
		got := strconv.FormatInt(id, 10) + "," + strconv.FormatFloat(x, 'f', -1, 64) + "," + s + "," + ts.Format("2006-01-02 15:04:05")
		if !csv.Scan() {
			t.Fatalf("CSV ends at row %d", i)
		}
		if got != csv.Text() {
			t.Fatalf("row %d: binary %q, CSV %q", i, got, csv.Text())
		}
	}
	if string(p) != "\xff\xff" {
		t.Fatalf("after the rows: % x, want the trailer ff ff", p)
	}
}
