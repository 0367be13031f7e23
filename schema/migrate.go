package schema

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Status is the state of one migration on a server.
type Status struct {
	Version   uint32
	Name      string
	Checksum  string    // of the rendered statements
	Applied   bool      // recorded in {db}.schema_migrations
	AppliedAt time.Time // zero unless Applied
	Changed   bool      // applied, but the embedded text has changed since
}

// checksum identifies a migration's rendered statements, so status can tell an applied
// migration whose file was edited afterwards.
func checksum(r Rendered) string {
	h := sha256.New()
	for _, s := range r.Statements {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func bootstrap(o Options) []string {
	on := ""
	engine := "ReplacingMergeTree(applied_at)"
	if o.Cluster != "" && !o.NodeByNode {
		on = " ON CLUSTER " + o.Cluster
	}
	if o.Cluster != "" && !o.PlainEngines {
		// One replica set over every node of the cluster (no {shard} in the path, the shard
		// in the replica name): every node sees every applied migration, so a later run
		// through any node skips them.
		engine = fmt.Sprintf("ReplicatedReplacingMergeTree('/clickhouse/tables/%s/schema_migrations', '{shard}-{replica}', applied_at)", o.Database)
	}
	return []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s%s", o.Database, on),
		// ReplacingMergeTree: two runners racing record a version twice, harmlessly.
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.schema_migrations%s
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = %s
ORDER BY version`, o.Database, on, engine),
	}
}

// Migrate creates the database if needed and applies, in order, every embedded migration
// not yet recorded in {db}.schema_migrations. Every statement is idempotent (IF NOT
// EXISTS), so a run interrupted half-way is finished by the next one. It returns the
// versions it applied. Then it (re)creates the q_<name> view of every saved query, so the
// views always match the binary's saved queries.
func Migrate(ctx context.Context, conn driver.Conn, o Options) ([]uint32, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	done, err := migrate(ctx, conn, ms, o)
	if err != nil {
		return done, err
	}
	views, err := RenderQueryViews(o)
	if err != nil {
		return done, err
	}
	for _, s := range views {
		if err := conn.Exec(ctx, s); err != nil {
			return done, fmt.Errorf("cannot create the view of a saved query: %w", err)
		}
	}
	return done, nil
}

func migrate(ctx context.Context, conn driver.Conn, ms []Migration, o Options) ([]uint32, error) {
	rs, err := Render(ms, o)
	if err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	for _, s := range bootstrap(o) {
		if err := conn.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("cannot create %s.schema_migrations: %w", o.Database, err)
		}
	}
	applied, err := appliedVersions(ctx, conn, o)
	if err != nil {
		return nil, err
	}
	var done []uint32
	for _, r := range rs {
		if _, ok := applied[r.Version]; ok {
			continue
		}
		for i, s := range r.Statements {
			if err := conn.Exec(ctx, s); err != nil {
				return done, fmt.Errorf("migration %04d_%s statement %d: %w", r.Version, r.Name, i+1, err)
			}
		}
		err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, now64(3))", o.Database),
			r.Version, r.Name, checksum(r))
		if err != nil {
			return done, fmt.Errorf("cannot record migration %04d_%s: %w", r.Version, r.Name, err)
		}
		done = append(done, r.Version)
	}
	return done, nil
}

type appliedRow struct {
	checksum string
	at       time.Time
}

func appliedVersions(ctx context.Context, conn driver.Conn, o Options) (map[uint32]appliedRow, error) {
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT version, argMax(checksum, applied_at), max(applied_at) FROM %s.schema_migrations GROUP BY version", o.Database))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s.schema_migrations: %w", o.Database, err)
	}
	defer rows.Close()
	out := map[uint32]appliedRow{}
	for rows.Next() {
		var v uint32
		var r appliedRow
		if err := rows.Scan(&v, &r.checksum, &r.at); err != nil {
			return nil, fmt.Errorf("cannot read %s.schema_migrations: %w", o.Database, err)
		}
		out[v] = r
	}
	return out, rows.Err()
}

// MigrationStatus reports every embedded migration and whether it is applied. A missing
// database or migrations table means nothing is applied.
func MigrationStatus(ctx context.Context, conn driver.Conn, o Options) ([]Status, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	rs, err := Render(ms, o)
	if err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	var exists uint8
	row := conn.QueryRow(ctx, "SELECT count() > 0 FROM system.tables WHERE database = ? AND name = 'schema_migrations'", o.Database)
	if err := row.Scan(&exists); err != nil {
		return nil, fmt.Errorf("cannot look for %s.schema_migrations: %w", o.Database, err)
	}
	applied := map[uint32]appliedRow{}
	if exists == 1 {
		if applied, err = appliedVersions(ctx, conn, o); err != nil {
			return nil, err
		}
	}
	out := make([]Status, 0, len(rs))
	for _, r := range rs {
		st := Status{Version: r.Version, Name: r.Name, Checksum: checksum(r)}
		if a, ok := applied[r.Version]; ok {
			st.Applied, st.AppliedAt, st.Changed = true, a.at, a.checksum != st.Checksum
		}
		out = append(out, st)
	}
	return out, nil
}
