package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Pos is a 1-based position in smith.yaml. The zero Pos means "unknown".
type Pos struct{ Line, Col int }

// IsZero reports whether p is unknown.
func (p Pos) IsZero() bool { return p.Line == 0 }

// String formats p as "line:col", or "line" when the column is unknown.
func (p Pos) String() string {
	if p.Col == 0 {
		return strconv.Itoa(p.Line)
	}
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Error is a problem in smith.yaml, located by file, position and field.
type Error struct {
	File  string // file name given to Parse, e.g. "smith.yaml"
	Pos   Pos    // where the problem is; zero if unknown
	Field string // field path, e.g. "paths[2]" or "mock.deps"; may be empty
	Msg   string
}

// Error formats e as "file:line:col: field: msg", leaving out the position
// when it is unknown and the field when it is empty.
func (e *Error) Error() string {
	var b strings.Builder
	var loc []string
	if e.File != "" {
		loc = append(loc, e.File)
	}
	if !e.Pos.IsZero() {
		loc = append(loc, e.Pos.String())
	}
	if len(loc) > 0 {
		b.WriteString(strings.Join(loc, ":"))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (p *parser) errorf(pos Pos, field, format string, args ...any) *Error {
	return &Error{File: p.name, Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)}
}
