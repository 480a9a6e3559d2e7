package probe

import (
	"context"
	"io"
)

// Command is what to run.
type Command struct {
	// Args is the argument vector. Args[0] names the program; when it has
	// no slash it is looked up in the PATH of Env (absolute PATH entries
	// only), otherwise it is used as is, relative to Dir.
	Args []string
	// Env is the environment of the program. A nil Env means the
	// environment of the current process, as in os/exec.
	Env []string
	// Dir is the working directory of the program; "" means the current
	// directory of the current process.
	Dir string
	// Stdin is the program's standard input; nil means /dev/null. A
	// reader that is not an *os.File is copied from a goroutine that Run
	// does not wait for.
	Stdin io.Reader
	// Stdout and Stderr are the program's standard output and error; nil
	// means /dev/null. Run returns after everything the program wrote has
	// been copied to them. When both are the same writer, it receives the
	// two streams through a single pipe, so no two writes race.
	Stdout, Stderr io.Writer
}

// Miss is one lookup that failed with ENOENT.
type Miss struct {
	// Path is the absolute, lexically cleaned path that the process asked
	// for. A relative path is resolved against the process's working
	// directory or against the directory file descriptor of an *at call,
	// as they were when the call was made. Symbolic links are not
	// resolved.
	Path string
	// Syscall is the name of the system call that failed: "openat",
	// "stat", "newfstatat", "statx", "execve", ...
	Syscall string
	// Exe is the program that asked (the target of /proc/<pid>/exe, best
	// effort: "" when it could not be read). After a successful exec it
	// is the new program.
	Exe string
}

// Result is the outcome of a run.
type Result struct {
	// ExitCode is the exit status of the top process, or 128+signal when
	// a signal killed it.
	ExitCode int
	// Misses holds the failed lookups of the top process and all of its
	// descendants, unique by (Path, Exe), in first-seen order. The Syscall
	// of a Miss is the one of its first occurrence.
	Misses []Miss
}

// Run runs c under ptrace and returns its exit code and failed lookups.
//
// It returns an error when the command cannot be started (naming the
// program), when tracing fails, and when tracing is not supported on this
// platform. When ctx is done before the command exits, Run kills every
// traced process and returns ctx.Err(). When the command ran but copying
// its output to Stdout or Stderr failed, Run returns both the Result and
// the copy error.
func Run(ctx context.Context, c Command) (*Result, error) {
	return run(ctx, c)
}
