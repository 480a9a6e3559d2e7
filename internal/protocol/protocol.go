package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Version is the protocol version this build of smith speaks. Raise it when
// a message changes in a way an older helper or frontend would misread.
const Version = 1

// encode writes a message as JSON. Callers set its Version first.
func encode(v any) ([]byte, error) {
	return json.Marshal(v)
}

// decodeChecked decodes a message of type T and runs its check.
func decodeChecked[T any](b []byte, check func(T) error) (T, error) {
	var v, zero T
	if err := decode(b, &v); err != nil {
		return zero, err
	}
	if err := check(v); err != nil {
		return zero, err
	}
	return v, nil
}

// decode reads a message of this protocol version into v, strictly: a
// field this smith does not know is an error, not silently dropped.
func decode(b []byte, v any) error {
	var head header
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	if err := checkVersion(head.Version); err != nil {
		return err
	}
	// json.Unmarshal above refused anything after the message.
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// header is what every message starts with.
type header struct {
	Version int `json:"version"`
}

func checkVersion(v int) error {
	switch v {
	case Version:
		return nil
	case 0:
		return fmt.Errorf("no protocol version (this smith speaks version %d; a message written by hand needs \"version\": %d)", Version, Version)
	}
	return fmt.Errorf("protocol version %d, but this smith speaks version %d: the frontend and its helper must come from the same smith release", v, Version)
}
