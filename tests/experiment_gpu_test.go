package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// gpuScript records what the trial was given: CUDA_VISIBLE_DEVICES, and
// when it held its slot (a second, so that trials granted together overlap).
const gpuScript = `import os, time
def train(data, hparams, reporter):
    dev = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    start = time.time()
    time.sleep(1.0)
    reporter.log("CUDA_VISIBLE_DEVICES=" + dev)
    names = dev.split(",") if dev else []
    return {"score": 1.0, "start": start, "end": time.time(), "ndev": len(names),
            "dev": float(names[0].rsplit("-", 1)[1]) if len(names) == 1 else -1.0}
`

// TestExperimentGPUScheduling runs trials on two fake GPUs (--fake-gpus;
// CI has no GPU) and checks what each trial was given through
// CUDA_VISIBLE_DEVICES against hopsql.trials.device and the allocator's
// rule: fractions are counted per device and never exceed it, whole
// devices are never shared.
func TestExperimentGPUScheduling(t *testing.T) {
	srv, c := expServer(t, "--fake-gpus", "2")
	putFile(t, srv, "/Projects/hopsql/Resources/gpu.py", gpuScript)
	if got := textRows(t, c, "SELECT uuid, allocated FROM hopsql.gpus ORDER BY index"); strings.Join(got, ";") != "GPU-fake-0|0;GPU-fake-1|0" {
		t.Fatalf("hopsql.gpus = %v", got)
	}
	for _, tc := range []struct {
		name      string
		gpus      string
		perDevice int // trials a device may hold at once
		ndev      int // devices per trial
	}{
		{"half", "0.5", 2, 1},
		{"whole", "1", 1, 1},
		{"two", "2", 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "gpu_" + tc.name
			id, _ := expCreate(t, c, fmt.Sprintf(`CREATE EXPERIMENT %s TRAIN SCRIPT '/Projects/hopsql/Resources/gpu.py' ON d TARGET label
				GRID SEARCH (x IN (1, 2, 3, 4, 5, 6)) OPTIMIZE MAXIMIZE score
				WITH (gpus_per_trial = %s, parallelism = 6, early_stopping = 'none')`, name, tc.gpus))
			mustWait(t, c, name, "SUCCEEDED", 6)
			type held struct {
				devices    []string
				start, end float64
			}
			var trials []held
			for _, r := range expTrials(t, c, id) {
				var m map[string]float64
				var metrics string
				if err := c.QueryRow(context.Background(), "SELECT metrics FROM hopsql.trials WHERE experiment_id = $1 AND trial = $2", id, r.N).Scan(&metrics); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(metrics), &m); err != nil {
					t.Fatalf("trial %d metrics %q: %v", r.N, metrics, err)
				}
				if r.Device == nil {
					t.Fatalf("trial %d has no device", r.N)
				}
				devs := strings.Split(*r.Device, ",")
				sort.Strings(devs)
				if len(devs) != tc.ndev || int(m["ndev"]) != tc.ndev {
					t.Fatalf("trial %d: device %q, the trainer saw %v devices; want %d", r.N, *r.Device, m["ndev"], tc.ndev)
				}
				if tc.ndev == 1 && fmt.Sprintf("GPU-fake-%d", int(m["dev"])) != devs[0] {
					t.Fatalf("trial %d: granted %s, but CUDA_VISIBLE_DEVICES named GPU-fake-%v", r.N, devs[0], m["dev"])
				}
				trials = append(trials, held{devices: devs, start: m["start"], end: m["end"]})
			}
			// At every trial's start, count who holds each device.
			most := 0
			for _, a := range trials {
				count := map[string]int{}
				for _, b := range trials {
					if b.start <= a.start && a.start < b.end {
						for _, d := range b.devices {
							count[d]++
						}
					}
				}
				for d, n := range count {
					if n > tc.perDevice {
						t.Fatalf("%d trials held %s at once (at most %d): %+v", n, d, tc.perDevice, trials)
					}
					most = max(most, n)
				}
			}
			if most != tc.perDevice {
				// Six trials of a second each, dispatched together: a device
				// that may hold two must have held two at some point.
				t.Fatalf("at most %d trials shared a device, want %d: %+v", most, tc.perDevice, trials)
			}
			if got := textRows(t, c, "SELECT sum(allocated) FROM hopsql.gpus"); got[0] != "0" {
				t.Fatalf("devices still allocated after the experiment: %v", got)
			}
		})
	}
}
