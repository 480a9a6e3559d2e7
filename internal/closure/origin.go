package closure

import (
	"fmt"
	"strconv"
)

// Origin says where a request comes from, for messages: an item of a
// smith.yaml list ("smith.yaml:5:3: paths[0]") or a file of the rootfs/
// overlay ("rootfs/usr/bin/app"). The zero Origin is unknown.
type Origin struct {
	// File is smith.yaml's name, or the overlay file the request is for.
	File string `json:"file,omitempty"`
	// Line and Col locate the item in File; zero when unknown.
	Line int `json:"line,omitempty"`
	Col  int `json:"col,omitempty"`
	// Field is the smith.yaml list that holds the item ("paths"), Index
	// its place in the list; an Origin without Field names File alone.
	Field string `json:"field,omitempty"`
	Index int    `json:"index,omitempty"`
}

// String formats o as "file:line:col: field[index]", leaving out the
// position when it is unknown and the item when there is no Field.
func (o Origin) String() string {
	loc := o.File
	if o.Line != 0 {
		loc = fmt.Sprintf("%s:%d:%d", o.File, o.Line, o.Col)
	}
	switch item := o.Item(); {
	case item == "":
		return loc
	case loc == "":
		return item
	default:
		return loc + ": " + item
	}
}

// Item is the list item o names ("paths[0]"), or "" without a Field.
func (o Origin) Item() string {
	if o.Field == "" {
		return ""
	}
	return o.Field + "[" + strconv.Itoa(o.Index) + "]"
}

// IsZero reports whether o is unknown.
func (o Origin) IsZero() bool { return o == Origin{} }

// what names the request in reasons: its list item, else the whole
// origin, else def.
func (o Origin) what(def string) string {
	if item := o.Item(); item != "" {
		return item
	}
	if o.IsZero() {
		return def
	}
	return o.String()
}

func withOrigin(o Origin, err error) error {
	if o.IsZero() {
		return err
	}
	return fmt.Errorf("%s: %w", o, err)
}

func withOriginText(o Origin, msg string) string {
	if o.IsZero() {
		return msg
	}
	return o.String() + ": " + msg
}
