package gpu

import (
	"context"
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// NVML discovers NVIDIA GPUs through libnvidia-ml, loaded at run time.
type NVML struct {
	mu  sync.Mutex
	lib nvml.Interface
}

// Open returns NVML's discoverer, or None when the machine has no NVIDIA
// driver (ERROR_LIBRARY_NOT_FOUND: quietly, that is the no-GPU case).
func Open() (Discoverer, error) {
	lib := nvml.New()
	switch ret := lib.Init(); ret {
	case nvml.SUCCESS:
		return &NVML{lib: lib}, nil
	case nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED:
		return None{}, nil
	default:
		return None{}, fmt.Errorf("NVML init: %s", ret.Error())
	}
}

func (n *NVML) Devices(context.Context) ([]Device, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	count, ret := n.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("NVML device count: %s", ret.Error())
	}
	var out []Device
	for i := 0; i < count; i++ {
		d, ret := n.lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("NVML device %d: %s", i, ret.Error())
		}
		uuid, ret := d.GetUUID()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("NVML device %d UUID: %s", i, ret.Error())
		}
		name, _ := d.GetName()
		mem, _ := d.GetMemoryInfo()
		out = append(out, Device{Index: i, UUID: uuid, Name: name, MemoryTotal: mem.Total})
	}
	return out, nil
}

func (n *NVML) Sample(_ context.Context, uuid string) (Usage, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d, ret := n.lib.DeviceGetHandleByUUID(uuid)
	if ret != nvml.SUCCESS {
		return Usage{}, fmt.Errorf("NVML device %s: %s", uuid, ret.Error())
	}
	u, ret := d.GetUtilizationRates()
	if ret != nvml.SUCCESS {
		return Usage{}, fmt.Errorf("NVML utilisation of %s: %s", uuid, ret.Error())
	}
	mem, ret := d.GetMemoryInfo()
	if ret != nvml.SUCCESS {
		return Usage{}, fmt.Errorf("NVML memory of %s: %s", uuid, ret.Error())
	}
	return Usage{GPUPercent: u.Gpu, MemoryPercent: u.Memory, MemoryUsed: mem.Used}, nil
}

func (n *NVML) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ret := n.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("NVML shutdown: %s", ret.Error())
	}
	return nil
}
