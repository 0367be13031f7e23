package chlocal

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnsureLibraryExplainsMissingNpm: with no cached engine and no npm, the error must
// say what is missing and the ways out, not fail somewhere deep inside.
func TestEnsureLibraryExplainsMissingNpm(t *testing.T) {
	t.Setenv("BEACON_CHDB_LIB", "")
	t.Setenv("PATH", t.TempDir())
	_, err := EnsureLibrary(context.Background(), t.TempDir(), io.Discard)
	if err == nil {
		t.Fatal("EnsureLibrary succeeded without npm and without a cached library")
	}
	for _, want := range []string{"npm is not installed", "BEACON_CHDB_LIB", Package} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestEnsureLibraryUsesCacheAndOverride: a cached copy and $BEACON_CHDB_LIB are used as they are.
func TestEnsureLibraryUsesCacheAndOverride(t *testing.T) {
	t.Setenv("BEACON_CHDB_LIB", "")
	t.Setenv("PATH", t.TempDir()) // no npm: a fetch attempt would fail the test
	cache := t.TempDir()
	lib := filepath.Join(cache, "chdb", Version, libName)
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := EnsureLibrary(context.Background(), cache, io.Discard)
	if err != nil || got != lib {
		t.Fatalf("cached: got %q, %v; want %q", got, err, lib)
	}
	t.Setenv("BEACON_CHDB_LIB", filepath.Join(cache, "missing.so"))
	if _, err := EnsureLibrary(context.Background(), cache, io.Discard); err == nil || !strings.Contains(err.Error(), "BEACON_CHDB_LIB") {
		t.Fatalf("missing override: err = %v, want one naming BEACON_CHDB_LIB", err)
	}
}
