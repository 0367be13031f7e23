// Package chlocal runs a real ClickHouse 26.7 server on this machine without an installed
// server package: it fetches the chdb engine library from npm into a cache directory and
// runs it as a clickhouse-local process that listens on the native and HTTP ports.
//
// Production deployments point the product at their own ClickHouse; nothing outside the
// local stack and the tests depends on this package.
package chlocal

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	// Package and Version name the npm package whose libchdb.so is ClickHouse 26.7.
	Package = "@chdb/lib-linux-x64-gnu"
	Version = "26.7.3-stable.1"
	libName = "libchdb.so"
)

// CacheDir returns where fetched engines are kept: $BEACON_CACHE_DIR if set, else .cache in the
// module root above the working directory (git-ignored), else the user cache directory.
func CacheDir() string {
	if d := os.Getenv("BEACON_CACHE_DIR"); d != "" {
		return d
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return filepath.Join(d, ".cache")
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "beacon")
	}
	return filepath.Join(os.TempDir(), "beacon-cache")
}

// EnsureLibrary returns the path of libchdb.so: $BEACON_CHDB_LIB when set, else the cached
// copy under cacheDir, fetching it with npm first when absent. Progress goes to progress.
// Concurrent callers (parallel test binaries) share one download through a lock file.
func EnsureLibrary(ctx context.Context, cacheDir string, progress io.Writer) (string, error) {
	if p := os.Getenv("BEACON_CHDB_LIB"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BEACON_CHDB_LIB=%s: %w", p, err)
		}
		return p, nil
	}
	dir := filepath.Join(cacheDir, "chdb", Version)
	lib := filepath.Join(dir, libName)
	if _, err := os.Stat(lib); err == nil {
		return lib, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cannot create ClickHouse library cache %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("cannot open cache lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("cannot lock ClickHouse library cache %s: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(lib); err == nil {
		return lib, nil // another process fetched it while we waited
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("the local ClickHouse engine is not cached at %s and npm is not installed to fetch %s@%s: install Node.js/npm, or set BEACON_CHDB_LIB to a libchdb.so, or use an external ClickHouse", lib, Package, Version)
	}
	tmp, err := os.MkdirTemp(dir, "fetch-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(progress, "fetching ClickHouse %s engine (%s@%s, about 180 MB) into %s ...\n", Version, Package, Version, dir)
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", Package+"@"+Version, "--pack-destination", tmp)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm pack %s@%s failed: %w\n%s", Package, Version, err, strings.TrimSpace(string(out)))
	}
	tgzs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgzs) != 1 {
		return "", fmt.Errorf("npm pack %s@%s left %d archives, want 1", Package, Version, len(tgzs))
	}
	if err := extractFile(tgzs[0], "package/"+libName, lib); err != nil {
		return "", fmt.Errorf("cannot unpack %s from %s: %w", libName, tgzs[0], err)
	}
	fmt.Fprintf(progress, "ClickHouse engine cached at %s\n", lib)
	return lib, nil
}

// extractFile copies the archive member name out of a .tgz to dst, atomically.
func extractFile(tgz, name, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s not found in archive", name)
		}
		if err != nil {
			return err
		}
		if h.Name != name {
			continue
		}
		tmp := dst + ".part"
		out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	}
}
