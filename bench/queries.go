package bench

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
	"github.com/beaconprm/beacon/schema"
)

//go:embed sql/synthetic_events.sql
var syntheticEventsSQL string

//go:embed sql/dimensions.sql
var dimensionsSQL string

// queryCase is one saved query with the parameters the scenario runs it with: the most
// popular content where it takes one (the heaviest answer), every campaign and course.
var queryCases = []struct {
	name   string
	params map[string]string
}{
	{"document-views", map[string]string{"tenant": "bench", "content": "doc-0"}},
	{"document-views", map[string]string{"tenant": "bench", "content": "doc-50"}},
	{"video-retention", map[string]string{"tenant": "bench", "content": "vid-0"}},
	{"video-retention", map[string]string{"tenant": "bench", "content": "vid-50"}},
	{"training-completion", map[string]string{"tenant": "bench"}},
	{"content-outcomes", map[string]string{"tenant": "bench"}},
	{"campaign-ranking", map[string]string{"tenant": "bench"}},
	// the contact questions (issue 15): the busiest person's log (u0 has the most events:
	// the heaviest visitor is one of its 20 devices) and its partner's, first pages; every
	// partner's activity (p190-p199 silent); reach of the most popular document and of a
	// campaign
	{"contact-timeline", map[string]string{"tenant": "bench", "person": "u0@partner.example"}},
	{"contact-timeline", map[string]string{"tenant": "bench", "partner": "p0"}},
	{"partner-activity", map[string]string{"tenant": "bench"}},
	{"content-reach", map[string]string{"tenant": "bench", "content": "doc-0"}},
	{"content-reach", map[string]string{"tenant": "bench", "campaign": "cmp-0"}},
	// search, versions and scores (wire v1 additions): every partner's search gaps over the
	// 90 days, every content's versions, every course's scores
	{"search-gaps", map[string]string{"tenant": "bench"}},
	{"content-versions", map[string]string{"tenant": "bench"}},
	{"training-scores", map[string]string{"tenant": "bench"}},
}

// caseLabel names a query case by its query and the ids it is asked for.
func caseLabel(name string, params map[string]string) string {
	for _, k := range []string{"content", "campaign", "person", "partner"} {
		if v := params[k]; v != "" {
			name += " " + k + "=" + v
		}
	}
	return name
}

// keptEach says whether a query case is a per-entity form beacon keep keeps
// (schema.KeptEachForms): its query with the form's parameter and its other parameters given
// besides the tenant, and no more.
func keptEach(name string, params map[string]string) bool {
	for _, f := range schema.KeptEachForms {
		if f.Query != name || params[f.Param] == "" {
			continue
		}
		if given, err := f.Given(params["tenant"], params[f.Param], time.Now()); err == nil && maps.Equal(given, params) {
			return true
		}
	}
	return false
}

// adHoc are raw-table queries about one content (target: under 1 s).
var adHoc = []struct{ name, sql string }{
	{"floor: SELECT 1 round trip (machine noise)", "SELECT 1"},
	{"ad hoc: events by type and day for doc-0 (raw)", "SELECT type, toDate(event_time) AS d, count(), uniq(visitor_id) FROM {db}.events WHERE tenant = 'bench' AND content_id = 'doc-0' GROUP BY type, d ORDER BY type, d"},
	{"ad hoc: top partners of vid-0 by watched events (raw)", "SELECT partner_id, count(), uniq(session_id) FROM {db}.events WHERE tenant = 'bench' AND content_id = 'vid-0' AND type = 'video' GROUP BY partner_id ORDER BY count() DESC LIMIT 20"},
}

func sqlFor(tmpl, db string, kv ...string) string {
	s := strings.ReplaceAll(tmpl, "{db}", db)
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

// runQueries is scenario 5: o.Rows synthetic raw events generated server-side (the
// rollups fill through their materialized views), then every saved query o.QueryN times.
func runQueries(ctx context.Context, o *Options, r *report.Report) error {
	s, err := newStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	sy, err := openSynthetic(ctx, s, o, false)
	if err != nil {
		return err
	}
	defer sy.Close()
	ch, conn, db := sy.ch, sy.conn, sy.db
	progress := func(s string) { fmt.Fprint(o.Log, s) }
	t0 := time.Now()

	// p95s[stage][label] for the scale comparison
	p95s := map[string]map[string]time.Duration{}
	readRows := map[string]uint64{} // stage+label: rows read by the query's last run
	var savedLabels []string        // the saved query cases, in order
	timeIt := func(stage, label string, run func() (int, error)) error {
		if _, err := run(); err != nil { // warm-up: marks and caches, as a dashboard in use has
			return fmt.Errorf("%s: %w", label, err)
		}
		var lat []time.Duration
		rows := 0
		// A slow query stops after a minute (but at least 5 runs), so a miss does not stall the scenario.
		budget := time.Now().Add(time.Minute)
		for i := 0; i < o.QueryN && (i < 5 || time.Now().Before(budget)); i++ {
			q0 := time.Now()
			n, err := run()
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			lat = append(lat, time.Since(q0))
			rows = n
		}
		sortDurations(lat)
		p50, p95 := load.Quantile(lat, 0.5), load.Quantile(lat, 0.95)
		target, ok := "p95 < 100 ms", p95 < 100*time.Millisecond
		verdict := ""
		switch {
		case strings.HasPrefix(label, "ad hoc"):
			target, ok = "< 1 s", p95 < time.Second
		case strings.HasPrefix(label, "floor"):
			target = ""
		}
		if target != "" {
			verdict = report.Verdict(ok)
		}
		read := ""
		if n, ok := readRows[stage+label]; ok {
			read = ", " + report.Num(float64(n)) + " rows read"
		}
		r.Rows = append(r.Rows, report.Row{Metric: stage + label + fmt.Sprintf(" (%d rows out%s, %d runs)", rows, read, len(lat)), Value: "p50 " + report.Ms(p50) + ", p95 " + report.Ms(p95), Target: target, Verdict: verdict})
		r.Raw = append(r.Raw, fmt.Sprintf("%s%s: %v", stage, label, lat))
		if p95s[stage] == nil {
			p95s[stage] = map[string]time.Duration{}
		}
		p95s[stage][label] = p95
		fmt.Fprintf(o.Log, "%s%-40s p50 %s p95 %s\n", stage, label, report.Ms(p50), report.Ms(p95))
		return nil
	}
	measure := func(stage string) error {
		for _, c := range queryCases {
			q, err := schema.LookupQuery(c.name)
			if err != nil {
				return err
			}
			label := caseLabel(c.name, c.params)
			if len(savedLabels) < len(queryCases) {
				savedLabels = append(savedLabels, label)
			}
			if err := timeIt(stage, label, func() (int, error) {
				var read uint64 // rows the server read for this run, from its progress packets
				qctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read += p.Rows }))
				res, err := q.Run(qctx, conn, db, c.params)
				readRows[stage+label] = read
				if err != nil {
					return 0, err
				}
				return len(res.Rows), nil
			}); err != nil {
				return err
			}
		}
		// What `beacon keep` does on its schedule, once: the tenant-wide forms computed into
		// their tables, then the per-entity ones within the default budget; then each served
		// as the console serves it (schema.SavedQuery.Answer).
		k := &schema.Keeper{Conn: conn, DB: db, Tenants: []string{"bench"}, EachBudget: schema.DefaultEachBudget}
		st, err := k.Once(ctx)
		if err != nil {
			return fmt.Errorf("beacon keep: %w", err)
		}
		r.Rows = append(r.Rows, report.Row{Metric: stage + fmt.Sprintf("beacon keep, one round (%d answers: %d tenant-wide, %d per entity within the %s budget, %d left; %s rows kept)",
			st.Answers, st.Answers-st.Each, st.Each, schema.DefaultEachBudget, st.EachLeft, report.Num(float64(st.Rows))), Value: report.Ms(st.Took)})
		fmt.Fprintf(o.Log, "%sbeacon keep: %d answers (%d per entity, %d left) in %s\n", stage, st.Answers, st.Each, st.EachLeft, st.Took.Round(time.Millisecond))
		for _, f := range schema.KeptForms {
			q, err := schema.LookupQuery(f.Query)
			if err != nil {
				return err
			}
			params, err := f.Given("bench", time.Now())
			if err != nil {
				return err
			}
			label := "kept: " + f.Query
			for _, k := range []string{"from", "kind", "level", "stopped"} {
				if v, ok := f.Params[k]; ok {
					label += " " + k + "=" + v
				}
			}
			if err := timeIt(stage, label, func() (int, error) {
				res, err := q.Answer(ctx, conn, db, params, time.Hour)
				if err != nil {
					return 0, err
				}
				if res.KeptAt.IsZero() {
					return 0, fmt.Errorf("computed, not served from the answer kept")
				}
				return len(res.Rows), nil
			}); err != nil {
				return err
			}
		}
		// the per-entity cases, served kept when the round's budget reached them
		for _, c := range queryCases {
			if !keptEach(c.name, c.params) {
				continue
			}
			q, err := schema.LookupQuery(c.name)
			if err != nil {
				return err
			}
			label := "kept: " + caseLabel(c.name, c.params)
			res, err := q.Answer(ctx, conn, db, c.params, time.Hour)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			kept := !res.KeptAt.IsZero()
			if !kept {
				label += " (the round's budget did not reach it: computed)"
			}
			if err := timeIt(stage, label, func() (int, error) {
				res, err := q.Answer(ctx, conn, db, c.params, time.Hour)
				if err != nil {
					return 0, err
				}
				if res.KeptAt.IsZero() == kept {
					return 0, fmt.Errorf("served kept %v, then %v", kept, !kept)
				}
				return len(res.Rows), nil
			}); err != nil {
				return err
			}
		}
		for _, a := range adHoc {
			sql := sqlFor(a.sql, db)
			if err := timeIt(stage, a.name, func() (int, error) {
				rows, err := conn.Query(ctx, sql)
				if err != nil {
					return 0, err
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					n++
				}
				return n, rows.Err()
			}); err != nil {
				return err
			}
		}
		return nil
	}
	// A tenth of the load first, merged as the merge policy leaves it, measured: the cost of
	// the saved queries must not grow with the raw volume (issue 15: within 1.3x from 10M to
	// 100M), which is what the rollups are for. The generator's events are a uniform sample
	// of the 90 days whatever their numbers, so the first tenth is the same data, thinner.
	const smallStage = "at a tenth of the rows, merged: "
	small := int64(0)
	smallNote := ""
	if o.Rows >= 1_000_000 {
		small = o.Rows / 10
		if err := sy.generate(ctx, small, progress); err != nil {
			return err
		}
		if _, _, err := sy.refresh(ctx, time.Since(t0)); err != nil {
			return err
		}
		if _, err := fastForwardMerges(ctx, ch, db, o); err != nil {
			return err
		}
		if err := settleMerges(ctx, ch, db); err != nil {
			return err
		}
		smallParts, _ := ch.Query(ctx, partsSQL(db))
		if err := measure(smallStage); err != nil {
			return err
		}
		smallNote = fmt.Sprintf("Scale: the first %s events were generated, refreshed as below and merged by the same "+
			"fast-forward of the merge policy, and every query measured (\"%s\"); then the load went on to %s. The scale rows "+
			"compare each query's p95 after the merge policy at the full size with its p95 at the tenth. Tables at the tenth: %s.",
			report.Num(float64(small)), strings.TrimSuffix(smallStage, ": "), report.Num(float64(o.Rows)), smallParts)
	}
	if err := sy.generate(ctx, o.Rows, progress); err != nil {
		return err
	}
	genTime := sy.genTime
	fmt.Fprintln(o.Log, "refreshing doc_viewer_rows for the load")
	loadRefresh, loadCompact, err := sy.refresh(ctx, time.Since(t0))
	if err != nil {
		return err
	}
	total, err := ch.QueryInt(ctx, "SELECT count() FROM "+db+".events")
	if err != nil {
		return err
	}
	viewerRows, err := ch.QueryInt(ctx, "SELECT count() FROM "+db+".doc_viewer_rows")
	if err != nil {
		return err
	}
	parts, _ := ch.Query(ctx, partsSQL(db))
	size, _ := ch.Query(ctx, "SELECT formatReadableSize(sum(bytes_on_disk)) FROM system.parts WHERE database = '"+db+"' AND active AND table = 'events'")

	if err := measure("after the load: "); err != nil {
		return err
	}
	// What the merge policy (migration 0011) makes of the tables an hour after the last
	// insert, without the hour: every table that has the policy gets an age of one second,
	// then the queries run again once each is down to one part.
	policy, err := fastForwardMerges(ctx, ch, db, o)
	if err != nil {
		return err
	}
	if err := settleMerges(ctx, ch, db); err != nil {
		return err
	}
	if err := measure("after the merge policy: "); err != nil {
		return err
	}
	if small > 0 {
		for _, label := range savedLabels {
			big, tenth := p95s["after the merge policy: "][label], p95s[smallStage][label]
			if tenth <= 0 {
				continue
			}
			ratio := float64(big) / float64(tenth)
			r.Rows = append(r.Rows, report.Row{Metric: "scale: " + label + " p95 at " + report.Num(float64(o.Rows)) + " rows vs " + report.Num(float64(small)),
				Value: report.Ms(big), Ceiling: report.Ms(tenth), Ratio: fmt.Sprintf("%.2fx", ratio), Target: "<= 1.3x", Verdict: report.Verdict(ratio <= 1.3)})
			// rows read do not depend on the machine's load: how the query's work grows
			bigRead, tenthRead := readRows["after the merge policy: "+label], readRows[smallStage+label]
			if tenthRead > 0 {
				r.Rows = append(r.Rows, report.Row{Metric: "scale: " + label + " rows read at " + report.Num(float64(o.Rows)) + " rows vs " + report.Num(float64(small)),
					Value: report.Num(float64(bigRead)), Ceiling: report.Num(float64(tenthRead)), Ratio: fmt.Sprintf("%.2fx", float64(bigRead)/float64(tenthRead))})
			}
		}
	}
	live, err := liveWrites(ctx, ch, conn, db, o)
	if err != nil {
		return err
	}
	if err := settleMerges(ctx, ch, db); err != nil {
		return err
	}
	// FINAL and per-part states make the queries' cost follow the parts, so say what the
	// third measurement read.
	liveParts, _ := ch.Query(ctx, partsSQL(db))
	if err := measure("after 15 minutes of new events: "); err != nil {
		return err
	}
	scale := ""
	if o.Rows < 100_000_000 {
		scale = fmt.Sprintf(" **Run at %s rows, not the target's 100M**, to finish in time on this shared 2-core machine; "+
			"run `make -C bench queries` (ROWS=100000000) for the full size.", report.Num(float64(o.Rows)))
	}
	r.Notes = append(r.Notes, fmt.Sprintf("Method: `beacon clickhouse` (the local ClickHouse 26.7 server) and `beacon migrate up`; "+
		"%s raw events generated server-side by `INSERT ... SELECT ... FROM numbers()` (bench/sql/synthetic_events.sql: "+
		"skewed visitors and contents, 60%% attributed to 5000 people in 200 partners, 2%% bots, all event types, 90 days) "+
		"in %s (%s rows/s including the materialized views), so the rollups fill as on a live insert; dimension tables from "+
		"bench/sql/dimensions.sql. Then each saved query (schema/queries, run through `schema.SavedQuery.Run` over the native "+
		"protocol, as `beacon query` does) once to warm up and %d times timed (fewer, at least 5, when the runs exceed a minute); the content-specific ones ask about the most "+
		"popular content (doc-0, vid-0: the largest answers) and a typical one (doc-50, vid-50); campaign-ranking and "+
		"training-completion cover every campaign and course. The synthetic events have no tracked-link clicks, so each "+
		"campaign's contents are the 10 that the contents table gives it. The contact questions: contact-timeline of the "+
		"busiest person (u0) and of its partner (p0), 100 touches; partner-activity of every partner (7 days to today "+
		"against 8 weeks; one attributed device in ten anonymous until 45 days ago, partners p190-p199 silent for 10 days); "+
		"content-reach of doc-0 and of campaign cmp-0. Searches, versions and scores (wire v1 additions): search-gaps of every "+
		"partner over the 90 days (0.3%% of the events are searches), content-versions of every content (documents and tools "+
		"carry v1..v3 by age, one visitor in 20 stays on v2), training-scores of every course (four completions in five "+
		"scored). Then, in each state, one round of `beacon keep` (every form of schema.KeptForms for tenant bench, then the "+
		"per-entity forms of schema.KeptEachForms, the busiest entities first, within the default -keep.eachBudget; timed as a "+
		"whole) and each kept form served as the console serves it (schema.SavedQuery.Answer, rows `kept: ...`), the per-entity "+
		"cases above among them (marked computed where the budget did not reach them).%s", report.Num(float64(total)), genTime.Round(time.Second),
		report.Num(float64(o.Rows)/genTime.Seconds()), o.QueryN, scale),
		fmt.Sprintf("After the load, what `beacon refresh` does: document-views' finished rows (doc_viewer_rows, migration 0013) were recomputed "+
			"for every viewer the load wrote, %s rows in %s; then the small rollups the saved queries read whole were compacted "+
			"(schema.Compactor): %s.", report.Num(float64(viewerRows)), loadRefresh.Round(100*time.Millisecond), loadCompact),
		"Tables after generation, the refresh and merges: "+parts+"; raw events on disk: "+size+".", policy, live,
		"Tables before the third measurement: "+liveParts+".")
	if smallNote != "" {
		r.Notes = append(r.Notes, smallNote)
	}
	return sy.keep(o)
}

// partsSQL lists every table of db with its active parts and rows, on one line.
func partsSQL(db string) string {
	return "SELECT arrayStringConcat(groupArray(concat(table, ' ', toString(c), ' parts, ', toString(r), ' rows')), '; ') " +
		"FROM (SELECT table, count() AS c, sum(rows) AS r FROM system.parts WHERE database = '" + db + "' AND active GROUP BY table ORDER BY table)"
}

// fastForwardMerges sets min_age_to_force_merge_seconds to 1 on every table of db that has
// a merge policy, waits (at most 30 minutes) until each is down to one active part, and
// says what it did.
func fastForwardMerges(ctx context.Context, ch *stack.ClickHouse, db string, o *Options) (string, error) {
	// "table age table age ...": each table with a policy and its age in seconds
	list, err := ch.Query(ctx, "SELECT arrayStringConcat(groupArray(concat(name, ' ', extract(engine_full, "+
		"'min_age_to_force_merge_seconds = (\\d+)'))), ' ') FROM system.tables WHERE database = '"+db+
		"' AND engine_full LIKE '%min_age_to_force_merge_seconds%'")
	if err != nil {
		return "", err
	}
	fields := strings.Fields(list)
	var tables []string
	age := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		tables = append(tables, fields[i])
		age[fields[i]] = fields[i+1]
	}
	if len(tables) == 0 {
		return "", fmt.Errorf("no table of %s has a merge policy (min_age_to_force_merge_seconds)", db)
	}
	for _, t := range tables {
		if _, err := ch.Query(ctx, "ALTER TABLE "+db+"."+t+" MODIFY SETTING min_age_to_force_merge_seconds = 1"); err != nil {
			return "", err
		}
	}
	in := "'" + strings.Join(tables, "', '") + "'"
	t0 := time.Now()
	for {
		left, err := ch.QueryInt(ctx, "SELECT count() FROM system.parts WHERE database = '"+db+"' AND active AND table IN ("+in+")")
		if err != nil {
			return "", err
		}
		if left <= int64(len(tables)) {
			break
		}
		if time.Since(t0) > 30*time.Minute {
			return "", fmt.Errorf("merge policy: %d parts left in %d tables after 30 minutes", left, len(tables))
		}
		fmt.Fprintf(o.Log, "\rmerge policy: %d parts left in %d tables after %s   ", left, len(tables), time.Since(t0).Round(time.Second))
		time.Sleep(time.Second)
	}
	fmt.Fprintln(o.Log)
	took := time.Since(t0)
	// Back to the migrations' ages, or every later insert would rewrite whole tables within
	// seconds.
	for _, t := range tables {
		if _, err := ch.Query(ctx, "ALTER TABLE "+db+"."+t+" MODIFY SETTING min_age_to_force_merge_seconds = "+age[t]); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("The merge policy (migrations 0011 and 0013: parts merged once all are an hour old) was fast-forwarded by "+
		"setting its age to 1 s on %s: they were down to one part each in %s. The ages were then set back, and the queries ran "+
		"again.", strings.Join(tables, ", "), took.Round(time.Second)), nil
}

// describeCompactions says what one compaction round did, or that nothing needed it.
func describeCompactions(done []schema.Compaction) string {
	var parts []string
	for _, d := range done {
		parts = append(parts, d.String())
	}
	if len(parts) == 0 {
		return "none had more than one part"
	}
	return strings.Join(parts, ", ")
}

// liveWrites writes 15 minutes' worth of new events at the rate the load's events span
// (o.Rows over their 90 days) as the ingest would: one insert per second of events, each
// followed by a refresh of the document viewers it wrote, and the ingest's compaction
// rounds on its default schedule, on the events' clock. It says what that cost.
func liveWrites(ctx context.Context, ch *stack.ClickHouse, conn clickhouse.Conn, db string, o *Options) (string, error) {
	const batches = 15 * 60                                       // one insert per second of events
	perBatch := max(1, o.Rows/int64(90*24*time.Hour/time.Second)) // events per second
	var took []time.Duration
	// the ingest's schedule, on the events' clock: batch i is written at second i
	compactor := &schema.Compactor{Conn: conn, DB: db, Interval: schema.CompactInterval, Spacing: schema.CompactSpacing}
	every := int64(schema.CompactInterval / time.Second)
	compactions := map[string][]time.Duration{}
	clock := time.Now()
	for i := int64(0); i < batches; i++ {
		start := o.Rows + i*perBatch
		began := time.Now()
		if _, err := ch.Query(ctx, sqlFor(syntheticEventsSQL, db, "start", strconv.FormatInt(start, 10), "count", strconv.FormatInt(perBatch, 10))); err != nil {
			return "", fmt.Errorf("new events: %w", err)
		}
		r0 := time.Now()
		if err := schema.RefreshRows(ctx, conn, db, time.Since(began)); err != nil {
			return "", fmt.Errorf("refreshing doc_viewer_rows: %w", err)
		}
		took = append(took, time.Since(r0))
		// rounds at seconds 4, 14, ..., 894 (with a 10 s interval): the last insert comes
		// halfway through an interval, so the third measurement does not see freshly
		// compacted tables
		if i%every == every/2-1 {
			done, err := compactor.Round(ctx, clock.Add(time.Duration(i)*time.Second))
			if err != nil {
				return "", err
			}
			for _, d := range done {
				if d.Err != nil {
					return "", fmt.Errorf("compacting %s: %w", d.Table, d.Err)
				}
				compactions[d.Table] = append(compactions[d.Table], d.Took)
			}
		}
		if i%60 == 59 {
			fmt.Fprintf(o.Log, "\rnew events: %d of %d batches   ", i+1, batches)
		}
	}
	fmt.Fprintln(o.Log)
	sortDurations(took)
	var compacts []string
	for _, t := range schema.CompactTables {
		if d := compactions[t]; len(d) > 0 {
			sortDurations(d)
			compacts = append(compacts, fmt.Sprintf("%s %d times (p50 %s, max %s)", t, len(d), report.Ms(load.Quantile(d, 0.5)), report.Ms(d[len(d)-1])))
		}
	}
	if len(compacts) == 0 {
		compacts = append(compacts, "none")
	}
	return fmt.Sprintf("Then 15 minutes of new events at the load's rate (%s events over 90 days): %d inserts of %d events, "+
		"each followed by the refresh of doc_viewer_rows the ingest does after a batch (refresh p50 %s, p95 %s, max %s), "+
		"and the ingest's compaction rounds on the events' clock (every %s, a table at most once per %d x its last compaction's "+
		"time; the last round %d inserts before the end, halfway through an interval); it compacted %s. Once merges had settled "+
		"the queries ran a third time.",
		report.Num(float64(o.Rows)), batches, perBatch, report.Ms(load.Quantile(took, 0.5)), report.Ms(load.Quantile(took, 0.95)), report.Ms(took[len(took)-1]),
		schema.CompactInterval, schema.CompactSpacing, every/2, strings.Join(compacts, ", ")), nil
}

// settleMerges waits (at most 5 minutes) until no merge runs in db, as a running system's
// would have settled.
func settleMerges(ctx context.Context, ch *stack.ClickHouse, db string) error {
	t0 := time.Now()
	for time.Since(t0) < 5*time.Minute {
		n, err := ch.QueryInt(ctx, "SELECT count() FROM system.merges WHERE database = '"+db+"'")
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		time.Sleep(time.Second)
	}
	return nil
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}
