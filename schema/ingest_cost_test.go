package schema

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestIngestCost measures, on the test binary's local ClickHouse, what the materialized
// views cost an insert and what the first five saved queries cost, for several schema
// states in the same run conditions: each state gets a fresh database migrated up to a
// version (or every migration), then the same synthetic events of the bench's generator
// (bench/sql/synthetic_events.sql, server-side INSERT ... SELECT in 2M-row chunks, as
// `make -C bench queries` loads them). It is a measurement, not a check, and runs only
// when asked:
//
//	BEACON_COST_ROWS=2000000 BEACON_COST_SCHEMAS=17,all BEACON_COST_RUNS=2 \
//	BEACON_COST_QUERIES=5 go test ./schema -run TestIngestCost -v -timeout 60m
//
// BEACON_COST_DROP lists views to drop in every state after migrating (what they cost is
// the difference with a run without). BEACON_COST_SCHEMAS lists states: a migration number (the 0018 columns of the raw table
// are added without its views, so the generator's insert is the same) or "all". The runs
// alternate between states. Per state and run it logs rows/s and, from
// system.query_views_log, the time spent in each view; with BEACON_COST_QUERIES=n it then
// loads the bench's dimension tables and runs each of the five queries once to warm up and
// n times, logging the median. Beside rows/s it logs the server's CPU time for the inserts
// (system.events, user + system; background merges that ran meanwhile included), which a
// loaded machine disturbs less. BEACON_COST_SETTINGS=name=value,... sets settings of the
// inserts in every state (e.g. optimize_on_insert=0).
func TestIngestCost(t *testing.T) {
	rows, _ := strconv.ParseInt(os.Getenv("BEACON_COST_ROWS"), 10, 64)
	if rows <= 0 {
		t.Skip("set BEACON_COST_ROWS (and BEACON_COST_SCHEMAS, _RUNS, _QUERIES) to measure")
	}
	states := strings.Split(envOr("BEACON_COST_SCHEMAS", "17,all"), ",")
	runs, _ := strconv.Atoi(envOr("BEACON_COST_RUNS", "1"))
	queryRuns, _ := strconv.Atoi(envOr("BEACON_COST_QUERIES", "0"))
	gen, err := os.ReadFile("../bench/sql/synthetic_events.sql")
	if err != nil {
		t.Fatal(err)
	}
	dims, err := os.ReadFile("../bench/sql/dimensions.sql")
	if err != nil {
		t.Fatal(err)
	}
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	// BEACON_COST_SETTINGS=k=v,...: settings of the generator's inserts (e.g.
	// optimize_on_insert=0), in every state
	insertSettings := clickhouse.Settings{"log_query_views": 1}
	for _, kv := range strings.Split(os.Getenv("BEACON_COST_SETTINGS"), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && identRE.MatchString(k) {
			insertSettings[k] = v
		} else if strings.TrimSpace(kv) != "" {
			t.Fatalf("BEACON_COST_SETTINGS: %q is not name=value", kv)
		}
	}
	for run := 1; run <= runs; run++ {
		for _, state := range states {
			t.Run(fmt.Sprintf("%s_run%d", state, run), func(t *testing.T) {
				ch := testenv.NewClickHouse(t)
				conn, db := slowConn(t, ch), ch.Database
				ctx := context.Background()
				ms := all
				if state != "all" {
					v, err := strconv.Atoi(state)
					if err != nil {
						t.Fatalf("BEACON_COST_SCHEMAS: %q is not a migration number or all", state)
					}
					ms = slices.DeleteFunc(slices.Clone(all), func(m Migration) bool { return int(m.Version) > v })
				}
				if _, err := migrate(ctx, conn, ms, Options{Database: db}); err != nil {
					t.Fatal(err)
				}
				// BEACON_COST_DROP=v1,v2: views dropped after migrating, to see what they cost
				for _, v := range strings.Split(os.Getenv("BEACON_COST_DROP"), ",") {
					if v = strings.TrimSpace(v); v != "" {
						if !identRE.MatchString(v) {
							t.Fatalf("BEACON_COST_DROP: %q is not a view name", v)
						}
						if err := conn.Exec(ctx, "DROP VIEW "+db+"."+v); err != nil {
							t.Fatal(err)
						}
					}
				}
				if len(ms) < 18 { // the raw table's columns of 0018, without its views
					rs, err := Render(all[:18], Options{Database: db})
					if err != nil {
						t.Fatal(err)
					}
					if err := conn.Exec(ctx, rs[17].Statements[0]); err != nil {
						t.Fatal(err)
					}
				}
				const chunk = 2_000_000
				qid := uuid.NewString()
				cpu0 := serverCPU(t, conn)
				start := time.Now()
				for from := int64(0); from < rows; from += chunk {
					sql := strings.NewReplacer("{db}", db, "{start}", strconv.FormatInt(from, 10),
						"{count}", strconv.FormatInt(min(chunk, rows-from), 10)).Replace(string(gen))
					qctx := clickhouse.Context(ctx, clickhouse.WithQueryID(fmt.Sprintf("%s-%d", qid, from)),
						clickhouse.WithSettings(insertSettings))
					if err := conn.Exec(qctx, sql); err != nil {
						t.Fatal(err)
					}
				}
				el := time.Since(start)
				cpu := serverCPU(t, conn) - cpu0
				t.Logf("state %s run %d: %d rows in %v: %.0f rows/s; server CPU %v: %.0f rows per CPU second", state, run, rows,
					el.Round(time.Millisecond), float64(rows)/el.Seconds(), cpu.Round(time.Millisecond), float64(rows)/cpu.Seconds())
				logViewCosts(t, conn, qid)
				if queryRuns > 0 && state == "all" { // the queries of this binary need every migration
					for _, s := range strings.Split(strings.ReplaceAll(string(dims), "{db}", db), ";\n") {
						if s = strings.TrimSpace(s); strings.Contains(s, "INSERT") {
							if err := conn.Exec(ctx, s); err != nil {
								t.Fatal(err)
							}
						}
					}
					timeFirstFive(t, conn, db, queryRuns)
				}
			})
		}
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// logViewCosts logs each view's time in the inserts whose query ids start with qid, as
// system.query_views_log has it (absent on engines that do not keep it).
func logViewCosts(t *testing.T, conn driver.Conn, qid string) {
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		t.Logf("no per-view times: %v", err)
		return
	}
	rs, err := conn.Query(ctx, `SELECT view_name, sum(view_duration_ms), sum(written_rows), max(peak_memory_usage)
		FROM system.query_views_log WHERE startsWith(initial_query_id, ?) GROUP BY view_name ORDER BY 2 DESC`, qid)
	if err != nil {
		t.Logf("no per-view times: %v", err)
		return
	}
	defer rs.Close()
	var total uint64
	var lines []string
	for rs.Next() {
		var name string
		var ms, written uint64
		var mem int64
		if err := rs.Scan(&name, &ms, &written, &mem); err != nil {
			t.Fatal(err)
		}
		total += ms
		lines = append(lines, fmt.Sprintf("  %-48s %8d ms %10d rows %6d MiB", name, ms, written, mem>>20))
	}
	t.Logf("views (sum of view_duration_ms %d ms):\n%s", total, strings.Join(lines, "\n"))
}

// timeFirstFive logs the median of n timed runs of each of the first five saved queries
// (after one warm-up run), with the bench's parameters.
func timeFirstFive(t *testing.T, conn driver.Conn, db string, n int) {
	calls := []struct {
		name   string
		params map[string]string
	}{
		{"document-views", map[string]string{"tenant": "bench", "content": "doc-0"}},
		{"video-retention", map[string]string{"tenant": "bench", "content": "vid-0"}},
		{"training-completion", map[string]string{"tenant": "bench"}},
		{"content-outcomes", map[string]string{"tenant": "bench"}},
		{"campaign-ranking", map[string]string{"tenant": "bench"}},
	}
	for _, c := range calls {
		q, err := LookupQuery(c.name)
		if err != nil {
			t.Fatal(err)
		}
		var ds []time.Duration
		var rows int
		for i := 0; i <= n; i++ {
			start := time.Now()
			res, err := q.Run(context.Background(), conn, db, c.params)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if i > 0 {
				ds = append(ds, time.Since(start))
			}
			rows = len(res.Rows)
		}
		slices.Sort(ds)
		t.Logf("  %-20s rows=%-6d median=%v (of %d; min %v, max %v)", c.name, rows, ds[len(ds)/2].Round(100*time.Microsecond), n,
			ds[0].Round(100*time.Microsecond), ds[len(ds)-1].Round(100*time.Microsecond))
	}
}

// TestViewCost measures each materialized view's share of an insert on its own: the same
// synthetic events go into a copy of the raw table that feeds no view, then each view's
// query runs over that copy into the view's table, timed. Reading a stored table is not
// exactly a view's pass over an inserted block, but the costs rank alike. Besides the
// wall-clock time it logs the CPU time the server spent on the query (user + system, from
// system.events), which a loaded machine disturbs far less. Runs only when asked:
//
//	BEACON_VIEW_COST_ROWS=2000000 BEACON_VIEW_COST_SCHEMAS=22,all go test ./schema -run TestViewCost -v -timeout 60m
//
// BEACON_VIEW_COST_SCHEMAS lists schema states as TestIngestCost's BEACON_COST_SCHEMAS
// ("all" by default); with BEACON_VIEW_COST_RUNS=n (default 1) the states alternate n times;
// BEACON_VIEW_COST_VIEWS=v1,v2 times only those views.
func TestViewCost(t *testing.T) {
	rows, _ := strconv.ParseInt(os.Getenv("BEACON_VIEW_COST_ROWS"), 10, 64)
	if rows <= 0 {
		t.Skip("set BEACON_VIEW_COST_ROWS to measure")
	}
	gen, err := os.ReadFile("../bench/sql/synthetic_events.sql")
	if err != nil {
		t.Fatal(err)
	}
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	states := strings.Split(envOr("BEACON_VIEW_COST_SCHEMAS", "all"), ",")
	runs, _ := strconv.Atoi(envOr("BEACON_VIEW_COST_RUNS", "1"))
	for run := 1; run <= runs; run++ {
		for _, state := range states {
			t.Run(fmt.Sprintf("%s_run%d", state, run), func(t *testing.T) {
				ms := all
				if state != "all" {
					v, err := strconv.Atoi(state)
					if err != nil || v < 18 {
						t.Fatalf("BEACON_VIEW_COST_SCHEMAS: %q is not a migration number from 18 or all", state)
					}
					ms = slices.DeleteFunc(slices.Clone(all), func(m Migration) bool { return int(m.Version) > v })
				}
				viewCost(t, ms, rows, string(gen))
			})
		}
	}
}

// viewCost migrates a fresh database with ms, loads rows synthetic events into a copy of
// the raw table and logs the wall-clock and CPU time of each view's query over it.
func viewCost(t *testing.T, ms []Migration, rows int64, gen string) {
	ch := testenv.NewClickHouse(t)
	conn, db := slowConn(t, ch), ch.Database
	ctx := context.Background()
	if _, err := migrate(ctx, conn, ms, Options{Database: db}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.events_src AS %s.events", db, db)); err != nil {
		t.Fatal(err)
	}
	const chunk = 2_000_000
	start := time.Now()
	for from := int64(0); from < rows; from += chunk {
		sql := strings.NewReplacer("INTO {db}.events", "INTO "+db+".events_src", "{db}", db, "{start}", strconv.FormatInt(from, 10),
			"{count}", strconv.FormatInt(min(chunk, rows-from), 10)).Replace(gen)
		if err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rows into a table without views in %v", rows, time.Since(start).Round(time.Millisecond))
	if err := conn.Exec(ctx, fmt.Sprintf("OPTIMIZE TABLE %s.events_src FINAL", db)); err != nil {
		t.Fatal(err)
	}
	rs, err := conn.Query(ctx, `SELECT name, as_select, extract(create_table_query, 'TO [^ .]+\\.([^ ]+)') FROM system.tables
		WHERE database = ? AND engine = 'MaterializedView' ORDER BY name`, db)
	if err != nil {
		t.Fatal(err)
	}
	type view struct{ name, sel, target string }
	var vs []view
	only := strings.Split(os.Getenv("BEACON_VIEW_COST_VIEWS"), ",") // views to time; empty: all
	for rs.Next() {
		var v view
		if err := rs.Scan(&v.name, &v.sel, &v.target); err != nil {
			t.Fatal(err)
		}
		if only[0] == "" || slices.Contains(only, v.name) {
			vs = append(vs, v)
		}
	}
	rs.Close()
	src := regexp.MustCompile(`\b` + db + `\.events\b`)
	type cost struct {
		name      string
		wall, cpu time.Duration
	}
	var costs []cost
	for _, v := range vs {
		sql := fmt.Sprintf("INSERT INTO %s.%s %s", db, v.target, src.ReplaceAllString(v.sel, db+".events_src"))
		var best, bestCPU time.Duration
		for i := 0; i < 2; i++ {
			if err := conn.Exec(ctx, "TRUNCATE TABLE "+db+"."+v.target); err != nil {
				t.Fatal(err)
			}
			// optimize_on_insert 0: the view's rows go in as the ingest's inserts write them
			qctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_threads": 2, "max_insert_threads": 2, "optimize_on_insert": 0}))
			cpu0 := serverCPU(t, conn)
			s := time.Now()
			if err := conn.Exec(qctx, sql); err != nil {
				t.Fatalf("%s: %v\n%s", v.name, err, sql)
			}
			if d := time.Since(s); i == 0 || d < best {
				best = d
			}
			if d := serverCPU(t, conn) - cpu0; i == 0 || d < bestCPU {
				bestCPU = d
			}
		}
		costs = append(costs, cost{v.name, best, bestCPU})
	}
	var wall, cpuSum time.Duration
	var lines []string
	for _, c := range costs {
		wall += c.wall
		cpuSum += c.cpu
		lines = append(lines, fmt.Sprintf("  %-32s %8v wall %8v CPU", c.name, c.wall.Round(time.Millisecond), c.cpu.Round(time.Millisecond)))
	}
	t.Logf("views over %d rows (best of 2 each; sum %v wall, %v CPU):\n%s", rows, wall.Round(time.Millisecond),
		cpuSum.Round(time.Millisecond), strings.Join(lines, "\n"))
}

// serverCPU is the user and system CPU time the server's query threads have used since it
// started (system.events; the server of a test binary serves only its tests, and
// TestViewCost runs alone).
func serverCPU(t *testing.T, conn driver.Conn) time.Duration {
	var us uint64
	if err := conn.QueryRow(context.Background(), `SELECT sum(value) FROM system.events
		WHERE event IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds')`).Scan(&us); err != nil {
		t.Fatal(err)
	}
	return time.Duration(us) * time.Microsecond
}

// slowConn is a connection to ch's database that waits for a long insert: one chunk
// with every view takes minutes on a busy machine, past the driver's 5-minute default.
func slowConn(t *testing.T, ch *testenv.ClickHouse) driver.Conn {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.NativeAddr}, Auth: clickhouse.Auth{Database: ch.Database},
		ReadTimeout: time.Hour, DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
