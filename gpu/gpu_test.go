package gpu

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"testing"
)

func devices(n int) []Device {
	var out []Device
	for i := 0; i < n; i++ {
		out = append(out, Device{Index: i, UUID: "GPU-" + string(rune('a'+i)), Name: "fake", MemoryTotal: 80 << 30})
	}
	return out
}

func TestAllocatorGrants(t *testing.T) {
	type step struct {
		gpus    float64
		want    []string // devices granted; nil for a CPU slot
		err     error    // ErrBusy, or errAny for a request that never fits
		release int      // release the grant of this earlier step (1-based) first
	}
	errAny := errors.New("any")
	for _, tc := range []struct {
		name  string
		gpus  int
		cpus  int
		steps []step
	}{
		{"halves share a device, then the next", 2, 1, []step{
			{gpus: 0.5, want: []string{"GPU-a"}},
			{gpus: 0.5, want: []string{"GPU-a"}},
			{gpus: 0.5, want: []string{"GPU-b"}},
			{gpus: 0.5, want: []string{"GPU-b"}},
			{gpus: 0.5, err: ErrBusy},
			{release: 2, gpus: 0.25, want: []string{"GPU-a"}},
		}},
		{"tenths add up to exactly one device", 1, 1, []step{
			{gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, want: []string{"GPU-a"}},
			{gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, want: []string{"GPU-a"}},
			{gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, want: []string{"GPU-a"}},
			{gpus: 0.1, want: []string{"GPU-a"}}, {gpus: 0.1, err: ErrBusy},
		}},
		{"fractions pack so whole devices stay free", 2, 1, []step{
			{gpus: 0.3, want: []string{"GPU-a"}},
			{gpus: 0.3, want: []string{"GPU-a"}},
			{gpus: 1, want: []string{"GPU-b"}},
			{gpus: 0.5, err: ErrBusy},
			{gpus: 0.4, want: []string{"GPU-a"}},
		}},
		{"whole devices", 3, 1, []step{
			{gpus: 2, want: []string{"GPU-a", "GPU-b"}},
			{gpus: 2, err: ErrBusy},
			{gpus: 1, want: []string{"GPU-c"}},
			{release: 1, gpus: 2, want: []string{"GPU-a", "GPU-b"}},
			{gpus: 4, err: errAny},
			{gpus: 1.5, err: errAny},
			{gpus: -1, err: errAny},
			{gpus: math.NaN(), err: errAny},
		}},
		{"CPU slots", 0, 2, []step{
			{gpus: 0}, {gpus: 0}, {gpus: 0, err: ErrBusy},
			{release: 1, gpus: 0},
			{gpus: 0.5, err: errAny},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAllocator(devices(tc.gpus), tc.cpus)
			grants := make([]Grant, len(tc.steps))
			for i, s := range tc.steps {
				if s.release > 0 {
					a.Release(grants[s.release-1])
				}
				g, err := a.Acquire(s.gpus)
				switch {
				case s.err == ErrBusy && !errors.Is(err, ErrBusy):
					t.Fatalf("step %d (%v GPUs): %v, want busy", i+1, s.gpus, err)
				case s.err == errAny && (err == nil || errors.Is(err, ErrBusy)):
					t.Fatalf("step %d (%v GPUs): %v, want a request that can never fit", i+1, s.gpus, err)
				case s.err == nil && err != nil:
					t.Fatalf("step %d (%v GPUs): %v", i+1, s.gpus, err)
				}
				if s.err == nil && !equal(g.Devices, s.want) {
					t.Fatalf("step %d (%v GPUs): granted %v, want %v", i+1, s.gpus, g.Devices, s.want)
				}
				grants[i] = g
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAllocatorNeverOvercommits: random acquires and releases of random
// sizes never put more than one device's worth on a device, and releasing
// everything leaves nothing used.
func TestAllocatorNeverOvercommits(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	a := NewAllocator(devices(4), 3)
	sizes := []float64{0, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2, 3}
	var held []Grant
	for i := 0; i < 5000; i++ {
		if len(held) > 0 && rng.Intn(2) == 0 {
			j := rng.Intn(len(held))
			a.Release(held[j])
			held = append(held[:j], held[j+1:]...)
		} else if g, err := a.Acquire(sizes[rng.Intn(len(sizes))]); err == nil {
			held = append(held, g)
		} else if !errors.Is(err, ErrBusy) {
			t.Fatal(err)
		}
		sum := map[string]int{}
		cpu := 0
		for _, g := range held {
			if g.cpu {
				cpu++
			}
			for _, u := range g.Devices {
				sum[u] += g.Share
			}
		}
		for u, n := range sum {
			if n > milli {
				t.Fatalf("step %d: %s holds %d/1000", i, u, n)
			}
		}
		if cpu > 3 {
			t.Fatalf("step %d: %d CPU slots out of 3", i, cpu)
		}
	}
	for _, g := range held {
		a.Release(g)
	}
	for u, f := range a.Used() {
		if f != 0 {
			t.Fatalf("%s still %v used", u, f)
		}
	}
}

func TestGrantEnv(t *testing.T) {
	a := NewAllocator(devices(2), 1)
	g, _ := a.Acquire(2)
	if env := g.Env(); len(env) != 1 || env[0] != "CUDA_VISIBLE_DEVICES=GPU-a,GPU-b" {
		t.Fatalf("two devices: %v", env)
	}
	c, _ := a.Acquire(0)
	if env := c.Env(); env[0] != "CUDA_VISIBLE_DEVICES=" {
		t.Fatalf("CPU slot: %v (must hide every GPU)", env)
	}
}

func TestFakeDiscoverer(t *testing.T) {
	ctx := context.Background()
	f := NewFake(devices(2)...)
	devs, _ := f.Devices(ctx)
	if len(devs) != 2 || devs[1].UUID != "GPU-b" {
		t.Fatalf("devices: %v", devs)
	}
	f.SetUsage("GPU-b", Usage{GPUPercent: 70, MemoryUsed: 1 << 30})
	if u, err := f.Sample(ctx, "GPU-b"); err != nil || u.GPUPercent != 70 {
		t.Fatalf("sample: %v %v", u, err)
	}
	if _, err := f.Sample(ctx, "GPU-z"); err == nil {
		t.Fatal("a device that is not there was sampled")
	}
}

// TestOpen: on a machine without an NVIDIA driver Open quietly reports no
// GPU; with one (the GPU machine) it lists devices with UUIDs and samples
// them. Both paths are real: which one runs depends on the machine.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	devs, err := d.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, none := d.(None); none {
		if len(devs) != 0 {
			t.Fatalf("no driver, but devices %v", devs)
		}
		t.Log("no NVIDIA driver on this machine: no GPUs")
		return
	}
	for _, dev := range devs {
		if len(dev.UUID) < 4 || dev.UUID[:4] != "GPU-" || dev.MemoryTotal == 0 {
			t.Fatalf("device %+v", dev)
		}
		if _, err := d.Sample(ctx, dev.UUID); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d GPU(s): %+v", len(devs), devs)
}
