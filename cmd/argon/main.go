// Command argon manages the branches, history and projects of an Argon store
// from the shell: an embedded store directory or a MongoDB deployment that
// holds the log.
//
// Exit codes: 0 success, 1 the operation failed, 2 usage error (bad flags,
// arguments, times, LSNs or JSON). Errors are printed on stderr in one line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, time.Now)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process's exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) int {
	a := &app{out: stdout, errOut: stderr, getenv: getenv, now: now}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, errorLine(err))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Errors cobra returns itself: unknown commands and flags, wrong
	// argument counts, missing required flags.
	return exitUsage
}

// exitError carries the exit code of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a usage error: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// failed marks an operation's error: exit code 1 unless it is already a
// usage error.
func failed(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitFail, err: err}
}

// errorLine renders an error as one line prefixed with "argon: ".
func errorLine(err error) string {
	msg := err.Error()
	for strings.HasPrefix(msg, "argon: ") {
		msg = strings.TrimPrefix(msg, "argon: ")
	}
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
	return "argon: " + msg
}
