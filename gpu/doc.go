// Package gpu owns compute resources for trials (issue 5): GPU discovery
// through NVML (NVIDIA/go-nvml, loading libnvidia-ml at run time) behind
// the Discoverer interface — None on machines without a driver, Fake in
// tests — and the Allocator, which hands out whole or fractional devices
// (counted per device in thousandths, never beyond a whole) and CPU slots,
// isolating a trial to its devices by UUID through CUDA_VISIBLE_DEVICES.
// Subpackages: gpu/jobs runs trials as child processes behind a Backend
// interface (local processes; metrics on file descriptor 3, stop requests
// on stdin); gpu/trainer is the Python trainer runtime and its built-in
// algorithms. engine/experiment schedules trials on the Allocator's grants.
package gpu
