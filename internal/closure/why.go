package closure

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Why writes one aligned line per entry: path, kind and the reasons it is in
// the closure. Symlinks show their target after the kind. Then one line for
// every .note.dlopen entry met, with what came of it.
func (c *Closure) Why(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range c.Entries {
		kind := e.Kind.String()
		if e.Kind == Symlink {
			kind += " -> " + e.Target
		}
		if _, err := fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Path, kind, strings.Join(e.Reasons, "; ")); err != nil {
			return err
		}
	}
	for _, d := range c.Dlopen {
		what := "not found"
		switch {
		case d.Included:
			what = "included " + d.Found
		case d.Found != "":
			what = "found " + d.Found + ", left out (dlopen level)"
		}
		feature := ""
		if d.Dep.Feature != "" {
			feature = " feature " + d.Dep.Feature
		}
		if _, err := fmt.Fprintf(tw, "%s\tdlopen\t%s%s: %s (%s)\n", d.File, d.Dep.Priority, feature,
			strings.Join(d.Dep.Sonames, " | "), what); err != nil {
			return err
		}
	}
	return tw.Flush()
}
