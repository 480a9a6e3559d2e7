package config

import (
	"fmt"
	"strings"
)

// Limits bound what one smith.yaml may ask for, so that an oversized input
// fails here, saying which limit and how to raise it, rather than deep in
// BuildKit (a gRPC message over 16 MiB, an argument list too long).
type Limits struct {
	// Bytes is the size of smith.yaml itself.
	Bytes int
	// Paths is the number of paths entries.
	Paths int
	// Value is the size of one scalar: a label, an env entry, a path.
	Value int
}

// DefaultLimits apply unless the build raises them (build-args
// SMITH_MAX_YAML_BYTES, SMITH_MAX_PATHS, SMITH_MAX_VALUE_BYTES).
var DefaultLimits = Limits{Bytes: 1 << 20, Paths: 10000, Value: 64 << 10}

// LimitArgs names the build-arg that raises each limit.
var LimitArgs = struct{ Bytes, Paths, Value string }{"SMITH_MAX_YAML_BYTES", "SMITH_MAX_PATHS", "SMITH_MAX_VALUE_BYTES"}

// SizeError reports a smith.yaml larger than Limits.Bytes. It carries no
// position: attaching the whole file to the error would be as large.
type SizeError struct {
	File        string
	Size, Limit int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s is %d bytes; the limit is %d (raise it with --build-arg %s=N)", e.File, e.Size, e.Limit, LimitArgs.Bytes)
}

// checkScalar rejects NUL bytes, which no image config or file name can
// hold, and values over the size limit.
func (p *parser) checkScalar(pos Pos, field, v string) error {
	if strings.ContainsRune(v, 0) {
		return p.errorf(pos, field, "contains a NUL byte")
	}
	if p.limits.Value > 0 && len(v) > p.limits.Value {
		return p.errorf(pos, field, "%d bytes; the limit is %d (raise it with --build-arg %s=N)", len(v), p.limits.Value, LimitArgs.Value)
	}
	return nil
}
