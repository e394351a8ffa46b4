//go:build !unix

package dashboard

// ProcessCPUSeconds is not measured on this system: the cost figures count
// no CPU time.
func ProcessCPUSeconds() float64 { return 0 }
