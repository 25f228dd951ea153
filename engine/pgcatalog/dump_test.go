package pgcatalog

import (
	"os"
	"testing"
)

func TestDumpScript(t *testing.T) {
	if os.Getenv("PGCAT_DUMP") == "" {
		t.Skip()
	}
	s, err := staticScript()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(os.Getenv("PGCAT_DUMP"), []byte("ATTACH ':memory:' AS hopsql_catalog;\n"+s+refreshScript(testInfo)), 0o644)
}
