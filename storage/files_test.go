package storage

import (
	"reflect"
	"testing"

	"github.com/hopsql/hopsql/catalog"
)

func TestJSONRowsRoundTrip(t *testing.T) {
	cols := []catalog.Column{{Name: "id", Type: "BIGINT"}, {Name: `we"ird`, Type: "VARCHAR"}, {Name: "n", Type: "DOUBLE"}}
	s := func(v string) *string { return &v }
	rows := [][]*string{
		{s("1"), s("line\nbreak \"quoted\" \\ \u0001 é 世界"), nil},
		{s("2"), s(""), s("-0.0")},
	}
	var buf []byte
	for _, r := range rows {
		buf = EncodeJSONRow(buf, cols, r)
	}
	got, err := DecodeJSONRows(buf, cols)
	if err != nil || !reflect.DeepEqual(got, rows) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	// Columns the file lacks (added later) read as NULL; ones it has but
	// the reader does not ask for are ignored.
	got, err = DecodeJSONRows(buf, []catalog.Column{{Name: "id"}, {Name: "added"}})
	if err != nil || len(got) != 2 || *got[1][0] != "2" || got[1][1] != nil {
		t.Fatalf("other columns: %v %v", got, err)
	}
	if _, err := DecodeJSONRows([]byte("{not json}\n"), cols); err == nil {
		t.Fatal("a corrupt line must be an error")
	}
}

func TestCompactionDue(t *testing.T) {
	for _, tc := range []struct {
		h    catalog.TableHead
		want bool
	}{
		{catalog.TableHead{Files: 3}, false},
		{catalog.TableHead{Files: 16}, true},
		{catalog.TableHead{Files: 40, InlineFiles: 30, InlineRows: 30}, false},
		{catalog.TableHead{Files: 64, InlineFiles: 64, InlineRows: 64}, false},
		{catalog.TableHead{Files: 256, InlineFiles: 256, InlineRows: 256}, true},
		{catalog.TableHead{Files: 5, InlineFiles: 4, InlineRows: 1024}, true},
	} {
		if got := CompactionDue(tc.h); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestTextExact(t *testing.T) {
	for typ, want := range map[string]bool{"BIGINT": true, "DECIMAL(18,4)": true, "INTERVAL": true, "TIMESTAMP WITH TIME ZONE": true,
		"INTEGER[]": false, "STRUCT(a INTEGER)": false, "MAP(VARCHAR, INTEGER)": false, "ENUM('a', 'b')": false} {
		if TextExact(typ) != want {
			t.Errorf("TextExact(%s) = %v", typ, !want)
		}
	}
}
