// Package pgtest gives tests a PostgreSQL database of their own: a new
// schema in the database that MODELGOV_TEST_POSTGRES names, dropped when the
// test ends. Without that variable the test is skipped, unless CI=true: CI
// must not pass by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDSN is the variable that names the test database.
const EnvDSN = "MODELGOV_TEST_POSTGRES"

// DSN returns the test database's DSN, or skips (fails, under CI=true) the
// test when there is none.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		const example = "e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but " + EnvDSN + " is not set: set it to a PostgreSQL DSN, " + example)
		}
		t.Skip(EnvDSN + " is not set: set it to a PostgreSQL DSN to run the tests that need PostgreSQL, " + example)
	}
	return dsn
}

// Schema creates an empty schema in the test database and returns a DSN
// (a postgres:// URL when the test database's is one) whose search_path is
// that schema. The schema is dropped when the test ends, after the
// cleanups registered later (closing the stores on it) have run.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	ctx := context.Background()
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "mgtest_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
