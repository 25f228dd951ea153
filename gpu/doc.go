// Package gpu will own compute resources: GPU discovery through NVML behind
// an interface (faked in tests), whole and fractional device assignment by
// UUID, CPU slots, utilisation sampling, and the job scheduler that runs
// trials (issue 5). It has no code yet.
package gpu
