package ingest

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon/event"
)

// migrationColumns reads the raw table's columns and types from the schema migrations,
// the source of truth for what ingest inserts: 0001's CREATE TABLE, then the columns later
// migrations add to {db}.events, in migration order.
func migrationColumns(t testing.TB) (names, types []string) {
	t.Helper()
	src, err := os.ReadFile("../schema/migrations/0001_events.sql")
	if err != nil {
		t.Fatal(err)
	}
	body := string(src)
	body = body[strings.Index(body, "(")+1 : strings.Index(body, "ENGINE")]
	line := regexp.MustCompile(`(?m)^\s+([a-z_]+)\s+(.+?)(?:\s+CODEC\(.*\))?,?\s*$`)
	for _, m := range line.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
		types = append(types, strings.TrimSuffix(m[2], ","))
	}
	later, err := filepath.Glob("../schema/migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(later)
	alter := regexp.MustCompile(`(?s)ALTER TABLE \{db\}\.events\n(.*?);`)
	add := regexp.MustCompile(`(?m)^\s+ADD COLUMN IF NOT EXISTS ([a-z_]+)\s+(.+?)(?:\s+CODEC\(.*\))?[,;]?\s*$`)
	for _, f := range later[1:] {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alter.FindAllStringSubmatch(string(src)+";", -1) {
			for _, m := range add.FindAllStringSubmatch(a[1], -1) {
				names = append(names, m[1])
				types = append(types, strings.TrimSuffix(m[2], ","))
			}
		}
	}
	return names, types
}

// The event contract (beacon/event) is the raw table's migration, column by column and type
// by type, in order: the ingest inserts in this order.
func TestEventColumnsMatchMigration(t *testing.T) {
	names, types := migrationColumns(t)
	if len(names) != len(event.Columns) {
		t.Fatalf("migration has %d columns, event.Columns %d:\n%v", len(names), len(event.Columns), names)
	}
	for i, c := range event.Columns {
		if names[i] != c.Name || types[i] != c.Type {
			t.Errorf("column %d: migration %s %s, event.Columns %s %s", i, names[i], types[i], c.Name, c.Type)
		}
	}
}
