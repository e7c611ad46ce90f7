// Package testenv gives tests access to the MongoDB-wire server they run
// against.
//
// The server is named by the ARGON_TEST_MONGODB_URI environment variable.
// scripts/test starts a local FerretDB (see testserver/) and sets it, together
// with ARGON_TEST_REQUIRE_MONGODB=1; any other MongoDB server can be used by
// setting the variable by hand, e.g.
//
//	ARGON_TEST_MONGODB_URI=mongodb://127.0.0.1:27017/ go test ./...
//
// Without the variable, tests that need a server are skipped, unless
// ARGON_TEST_REQUIRE_MONGODB=1, in which case they fail: under CI a test that
// needs a server never silently passes.
//
// All functions are safe for concurrent use by parallel tests.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Environment variables read by this package.
const (
	// URIEnv names the MongoDB URI of the server tests run against.
	URIEnv = "ARGON_TEST_MONGODB_URI"
	// RequireEnv, when set to "1", turns a missing URIEnv into a test failure
	// instead of a skip.
	RequireEnv = "ARGON_TEST_REQUIRE_MONGODB"
)

// Timeout bounds connecting, pinging and dropping a test database.
const Timeout = 10 * time.Second

// maxDBNameLen is the longest database name accepted by both MongoDB (names
// are shorter than 64 bytes) and FerretDB (^[a-zA-Z0-9_-]{1,63}$).
const maxDBNameLen = 63

// MongoURI returns the value of ARGON_TEST_MONGODB_URI.
//
// When it is unset or empty, MongoURI skips the test, or fails it if
// ARGON_TEST_REQUIRE_MONGODB=1; in both cases it does not return.
func MongoURI(tb testing.TB) string {
	tb.Helper()
	uri := os.Getenv(URIEnv)
	if uri != "" {
		return uri
	}
	const how = " is not set; run scripts/test (it starts a FerretDB test server) " +
		"or set it to the URI of a MongoDB server"
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatal("testenv: " + URIEnv + how + " (" + RequireEnv + "=1 makes this a failure)")
	}
	tb.Skip("testenv: " + URIEnv + how)
	return "" // not reached: Skip and Fatal stop the test
}

// MongoClient connects to the server named by MongoURI (skipping or failing
// the test as MongoURI does when there is none) and pings it, both within
// Timeout. The client is disconnected when the test and its subtests finish.
func MongoClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	uri := MongoURI(tb)

	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	opts := options.Client().ApplyURI(uri).
		SetConnectTimeout(Timeout).
		SetServerSelectionTimeout(Timeout)
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		// The URI is not printed: it may carry credentials.
		tb.Fatalf("testenv: connecting to %s: %v", URIEnv, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := client.Disconnect(ctx); err != nil {
			tb.Errorf("testenv: disconnecting: %v", err)
		}
	})
	if err := client.Ping(ctx, nil); err != nil {
		tb.Fatalf("testenv: pinging the server at %s: %v", URIEnv, err)
	}
	return client
}

// UniqueDBName returns a database name that no other test or test run uses,
// and registers a cleanup that drops that database when the test and its
// subtests finish.
//
// The name starts with prefix, then holds part of the test's name and 16
// random hex digits; it uses only [a-z0-9_] and is at most 63 bytes long, as
// MongoDB and FerretDB require. Like MongoURI, it skips or fails the test when
// there is no server.
func UniqueDBName(tb testing.TB, prefix string) string {
	tb.Helper()
	uri := MongoURI(tb)
	name := dbName(prefix, tb.Name())

	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		opts := options.Client().ApplyURI(uri).
			SetConnectTimeout(Timeout).
			SetServerSelectionTimeout(Timeout)
		client, err := mongo.Connect(ctx, opts)
		if err != nil {
			tb.Errorf("testenv: dropping database %s: connecting: %v", name, err)
			return
		}
		defer client.Disconnect(context.Background()) //nolint:errcheck // best effort
		if err := client.Database(name).Drop(ctx); err != nil {
			tb.Errorf("testenv: dropping database %s: %v", name, err)
		}
	})
	return name
}

// dbName builds a database name from prefix and testName as UniqueDBName
// documents.
func dbName(prefix, testName string) string {
	var random [8]byte
	_, _ = rand.Read(random[:]) // crypto/rand.Read never fails
	suffix := "_" + hex.EncodeToString(random[:])

	p := sanitize(prefix, 24)
	if p == "" {
		p = "argon"
	}
	name := p
	if room := maxDBNameLen - len(suffix) - len(name) - 1; room > 0 {
		if t := sanitize(testName, room); t != "" {
			name += "_" + t
		}
	}
	return name + suffix
}

// sanitize lowercases s, replaces every byte outside [a-z0-9_] by '_', and
// truncates the result to at most n bytes.
func sanitize(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		default:
			c = '_'
		}
		b.WriteByte(c)
	}
	return b.String()
}
