package closure

import (
	"fmt"
	"strings"
)

// NoMatchError reports a pattern that matched no file in the root.
type NoMatchError struct {
	Pattern Pattern
}

func (e *NoMatchError) Error() string {
	return withOriginText(e.Pattern.Origin, fmt.Sprintf("no file matches %q", e.Pattern.Glob))
}

// MissingLibraryError reports a DT_NEEDED library or an interpreter that is
// not in the root (or not for the right ELF class and machine).
type MissingLibraryError struct {
	// Origin is the Origin of the pattern whose closure needed the library.
	Origin Origin
	// File is the object that needs the library.
	File string
	// Soname is the DT_NEEDED string or the interpreter path.
	Soname string
	// Searched lists the directories (or paths) tried, in order.
	Searched []string
}

func (e *MissingLibraryError) Error() string {
	where := "not found"
	if len(e.Searched) > 0 {
		where = "not found in " + strings.Join(e.Searched, ", ")
	}
	return withOriginText(e.Origin, fmt.Sprintf("%s needs %s, %s", e.File, e.Soname, where))
}
