package schema

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestZZScratch(t *testing.T) {
	conn, db := newDB(t)
	if _, err := Migrate(context.Background(), conn, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("/tmp/stitch/scratch.sql")
	for i, q := range strings.Split(string(b), "\n;;\n") {
		q = strings.ReplaceAll(q, "{db}", db)
		rows, err := conn.Query(context.Background(), q)
		if err != nil {
			t.Logf("%d: ERR %v", i, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		t.Logf("%d: ok %d rows %v", i, n, rows.Err())
		rows.Close()
	}
}
