//go:build !linux || !(amd64 || arm64)

package probe

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// run reports that this platform has no tracer: the system call tables and
// register layouts exist for linux/amd64 and linux/arm64 only.
func run(context.Context, Command) (*Result, error) {
	return nil, fmt.Errorf("probe: tracing is not supported on %s/%s: %w",
		runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}
