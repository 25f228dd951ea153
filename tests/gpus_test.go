package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hopsql/hopsql/gpu"
)

// TestGPUsTable: hopsql.gpus lists the devices NVML finds on this machine
// (none without an NVIDIA driver), with their UUIDs.
func TestGPUsTable(t *testing.T) {
	d, err := gpu.Open()
	if err != nil {
		t.Fatal(err)
	}
	devs, err := d.Devices(context.Background())
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, dev := range devs {
		want = append(want, fmt.Sprintf("%d|%s|%d", dev.Index, dev.UUID, dev.MemoryTotal))
	}
	srv := startServer(t)
	c := srv.connect(t)
	got := textRows(t, c, "SELECT index, uuid, memory_total FROM hopsql.gpus ORDER BY index")
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("hopsql.gpus: %v, want %v", got, want)
	}
	// The columns are there whether or not there are rows.
	textRows(t, c, "SELECT name, memory_used, gpu_percent, memory_percent FROM hopsql.gpus")
}
