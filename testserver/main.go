// Command testserver runs an embedded FerretDB (v1.24.2, SQLite backend) as
// a MongoDB-wire server for Argon's tests.
//
// It exists so that the MongoDB-backed WAL store tests and the differential
// tests (Argon versus a real server) can run on a machine that has only Go:
// no Docker engine and no mongod are needed. scripts/test builds it, starts
// it on a free loopback port with a fresh data directory, and points the
// tests at it through ARGON_TEST_MONGODB_URI.
//
// It lives in its own Go module so that the library's go.mod does not carry
// FerretDB's dependencies. FerretDB is run from this tiny main because
// `go install github.com/FerretDB/FerretDB/cmd/ferretdb` panics on a missing
// build/version/version.txt file.
//
// Build it with scripts/build-testserver, which patches FerretDB so that its
// unique _id index serves lookups by _id (unpatched, FerretDB 1.24 indexes
// one SQLite expression and queries another, so every lookup by _id scans
// its collection). A plain `go build` works too, and warns at start.
//
// What it lacks compared with mongod: no multi-document transactions, no
// sessions with transaction semantics, and no change streams; it is a
// standalone server (no replica set). Tests that need those must use a real
// mongod (set ARGON_TEST_MONGODB_URI to point at one).
//
// Usage:
//
//	testserver [-addr 127.0.0.1:27018] [-dir DIR] [-log-level warn]
//
// Once the listener accepts connections, the MongoDB URI is printed on
// stdout as a single line. The server stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// idIndexPatched is set by scripts/build-testserver.
var idIndexPatched string

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:27018", "TCP `address` to listen on")
	dir := flag.String("dir", "testserver-data", "SQLite data `directory` (created if missing)")
	logLevel := flag.String("log-level", "warn", "FerretDB log `level`: debug, info, warn or error")
	flag.Parse()
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if idIndexPatched == "" {
		fmt.Fprintln(os.Stderr, "testserver: built without scripts/build-testserver: lookups by _id scan their collection")
	}

	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(abs) + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI blocks until the TCP listener is ready. If listening fails,
	// Run returns (FerretDB logs the reason) and we report that instead of
	// waiting forever.
	uri := make(chan string, 1)
	go func() { uri <- f.MongoDBURI() }()

	select {
	case u := <-uri:
		fmt.Println(u)
	case err := <-done:
		if err == nil {
			err = errors.New("server stopped before listening")
		}
		return err
	}

	if err := <-done; err != nil {
		return err
	}
	if ctx.Err() == nil {
		return errors.New("server stopped unexpectedly")
	}
	return nil
}
