//go:build !unix

package policy

// processCPU returns 0 where the process's CPU time is not available.
func processCPU() int64 { return 0 }
