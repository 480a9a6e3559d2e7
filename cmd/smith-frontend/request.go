package main

import (
	"fmt"
	"os"
)

// readRequest reads the protocol request a build step hands the helper in
// a file; what names it in errors ("the install request").
func readRequest[T any](file, what string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := os.ReadFile(file)
	if err != nil {
		return zero, fmt.Errorf("reading %s: %w", what, err)
	}
	v, err := decode(b)
	if err != nil {
		return zero, fmt.Errorf("decoding %s: %w", what, err)
	}
	return v, nil
}
