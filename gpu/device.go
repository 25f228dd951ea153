package gpu

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Device is one GPU as discovery reports it.
type Device struct {
	Index       int
	UUID        string // what CUDA_VISIBLE_DEVICES names it by
	Name        string
	MemoryTotal uint64 // bytes
}

// Usage is a device's utilisation at one moment.
type Usage struct {
	GPUPercent    uint32
	MemoryPercent uint32 // of the time the memory was being read or written
	MemoryUsed    uint64 // bytes
}

// Discoverer finds a machine's GPUs and samples their use. NVML implements
// it on NVIDIA machines; machines without a GPU get None; tests use Fake.
type Discoverer interface {
	Devices(ctx context.Context) ([]Device, error)
	Sample(ctx context.Context, uuid string) (Usage, error)
	Close() error
}

// None is the discoverer of a machine without GPUs.
type None struct{}

func (None) Devices(context.Context) ([]Device, error) { return nil, nil }

func (None) Sample(_ context.Context, uuid string) (Usage, error) {
	return Usage{}, fmt.Errorf("no GPU %q: this machine has none", uuid)
}

func (None) Close() error { return nil }

// Fake is a discoverer with fixed devices and settable usage, for tests.
type Fake struct {
	mu    sync.Mutex
	devs  []Device
	usage map[string]Usage
}

// NewFake returns a fake with the given devices.
func NewFake(devs ...Device) *Fake {
	return &Fake{devs: append([]Device(nil), devs...), usage: map[string]Usage{}}
}

func (f *Fake) Devices(context.Context) ([]Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Device(nil), f.devs...), nil
}

// SetUsage sets what Sample reports for a device.
func (f *Fake) SetUsage(uuid string, u Usage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage[uuid] = u
}

func (f *Fake) Sample(_ context.Context, uuid string) (Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.devs {
		if d.UUID == uuid {
			return f.usage[uuid], nil
		}
	}
	return Usage{}, fmt.Errorf("no GPU %q", uuid)
}

func (f *Fake) Close() error { return nil }

// milli is the unit fractions of a device are counted in: whole numbers,
// so that 0.1 ten times is exactly one device.
const milli = 1000

// Grant is what a trial was given: fractions of devices (by UUID), or a
// CPU slot when Devices is empty.
type Grant struct {
	Devices []string
	// Share is the fraction of each device the grant holds, in 1/1000s.
	Share int
	cpu   bool
}

// Env is the environment that confines a trial to its devices: CUDA sees
// exactly the granted ones (none for a CPU slot).
func (g Grant) Env() []string {
	list := ""
	for i, u := range g.Devices {
		if i > 0 {
			list += ","
		}
		list += u
	}
	return []string{"CUDA_VISIBLE_DEVICES=" + list}
}

// ErrBusy means the request fits the machine but not now: wait for a
// release.
var ErrBusy = errors.New("no free resources now")

// Allocator hands out whole or fractional GPUs and CPU slots, counting
// fractions per device so that no device is ever given out beyond its
// whole.
type Allocator struct {
	mu       sync.Mutex
	devices  []string       // UUIDs in index order
	used     map[string]int // UUID → milli-devices granted
	cpuSlots int
	cpuUsed  int
	// freed is closed (and replaced) by every Release: waiters retry.
	freed chan struct{}
}

// NewAllocator returns an allocator over devices and cpuSlots CPU slots.
func NewAllocator(devices []Device, cpuSlots int) *Allocator {
	sorted := append([]Device(nil), devices...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Index < sorted[j].Index })
	a := &Allocator{used: map[string]int{}, cpuSlots: cpuSlots, freed: make(chan struct{})}
	for _, d := range sorted {
		a.devices = append(a.devices, d.UUID)
	}
	return a
}

// Acquire grants gpus devices: 0 asks for a CPU slot; a fraction up to 1
// shares one device (the fullest one it fits on, so that whole devices stay
// free for whole requests); a whole number above 1 takes that many free
// devices. It fails with ErrBusy when the request fits the machine but not
// now, and with another error when it never will.
func (a *Allocator) Acquire(gpus float64) (Grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case gpus < 0 || gpus != gpus:
		return Grant{}, fmt.Errorf("gpus per trial must be ≥ 0, not %v", gpus)
	case gpus == 0:
		if a.cpuSlots <= 0 {
			return Grant{}, errors.New("this machine has no CPU slots for trials")
		}
		if a.cpuUsed >= a.cpuSlots {
			return Grant{}, ErrBusy
		}
		a.cpuUsed++
		return Grant{cpu: true}, nil
	case gpus <= 1:
		share := int(gpus*milli + 0.5)
		if share == 0 {
			return Grant{}, fmt.Errorf("gpus per trial %v is below a thousandth of a device", gpus)
		}
		if len(a.devices) == 0 {
			return Grant{}, errors.New("this machine has no GPU")
		}
		best := ""
		for _, u := range a.devices {
			if a.used[u]+share <= milli && (best == "" || a.used[u] > a.used[best]) {
				best = u
			}
		}
		if best == "" {
			return Grant{}, ErrBusy
		}
		a.used[best] += share
		return Grant{Devices: []string{best}, Share: share}, nil
	}
	n := int(gpus)
	if float64(n) != gpus {
		return Grant{}, fmt.Errorf("gpus per trial above 1 must be a whole number, not %v", gpus)
	}
	if n > len(a.devices) {
		return Grant{}, fmt.Errorf("%d GPUs per trial, but this machine has %d", n, len(a.devices))
	}
	var free []string
	for _, u := range a.devices {
		if a.used[u] == 0 {
			free = append(free, u)
		}
	}
	if len(free) < n {
		return Grant{}, ErrBusy
	}
	for _, u := range free[:n] {
		a.used[u] = milli
	}
	return Grant{Devices: free[:n:n], Share: milli}, nil
}

// AcquireWait is Acquire that waits for a release while the request fits
// the machine but not now.
func (a *Allocator) AcquireWait(ctx context.Context, gpus float64) (Grant, error) {
	for {
		a.mu.Lock()
		freed := a.freed
		a.mu.Unlock()
		g, err := a.Acquire(gpus)
		if !errors.Is(err, ErrBusy) {
			return g, err
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return Grant{}, ctx.Err()
		}
	}
}

// CPUSlots returns the number of CPU slots and how many are in use.
func (a *Allocator) CPUSlots() (total, used int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cpuSlots, a.cpuUsed
}

// Device names what a grant runs on: "cpu" or its devices' UUIDs.
func (g Grant) Device() string {
	if len(g.Devices) == 0 {
		return "cpu"
	}
	return strings.Join(g.Devices, ",")
}

// Release returns a grant.
func (a *Allocator) Release(g Grant) {
	a.mu.Lock()
	defer a.mu.Unlock()
	close(a.freed)
	a.freed = make(chan struct{})
	if g.cpu {
		a.cpuUsed--
		return
	}
	for _, u := range g.Devices {
		a.used[u] -= g.Share
		if a.used[u] <= 0 {
			delete(a.used, u)
		}
	}
}

// Used returns how much of each device is granted, in devices.
func (a *Allocator) Used() map[string]float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]float64{}
	for _, u := range a.devices {
		out[u] = float64(a.used[u]) / milli
	}
	return out
}
