package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// splitList splits a comma-separated flag value, dropping blanks and spaces.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clickhousePassword reads the password from file (named by flagName in errors) when given,
// else from $BEACON_CLICKHOUSE_PASSWORD; secrets never come from flag values.
func clickhousePassword(file, flagName string) (string, error) {
	if file == "" {
		return os.Getenv("BEACON_CLICKHOUSE_PASSWORD"), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read -%s: %w", flagName, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// bytesFlag is a size flag accepting 65536, 64KiB, 16MiB, 1GiB (or KB/MB/GB in powers of ten).
type bytesFlag struct{ n int64 }

func newBytesFlag(def int64) *bytesFlag { return &bytesFlag{n: def} }

func (b *bytesFlag) String() string {
	if b == nil {
		return "0"
	}
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b.n >= u.mult && b.n%u.mult == 0 {
			return strconv.FormatInt(b.n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(b.n, 10)
}

func (b *bytesFlag) Set(s string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return errors.New("want a positive size such as 65536, 64KiB or 1GiB")
	}
	b.n = n * mult
	return nil
}
