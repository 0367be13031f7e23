package schema

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Kept answers. A few saved queries answer for a whole tenant at once (every partner's
// activity, every search, every version, every course's scores) and read millions of rollup
// rows to do it: hundreds of milliseconds at 100M events, where the console and a BI
// dashboard want them in tens. Their tenant-wide forms (KeptForms) change only as events
// arrive, so `beacon keep` computes them on a schedule, on the server (INSERT ... SELECT of
// the saved query itself), into a table per query, and Answer serves the latest while it is
// younger than a maximum age; any other form, or no fresh answer, is computed as before.
// What a kept answer is: exactly the saved query's rows at its computed_at, with every
// event written before then (checked by TestKeptAnswersEqualLive).
//
// Tables: kept_answers (one row per answer kept: tenant, query, params, computed_at, rows,
// took_ms, tbl), written after the answer's rows, so a reader never sees half an answer;
// kept_<query>_<hash of its SQL> (the rows, _kept_seq keeping their order), so a changed
// query never serves rows of its former self. Both are created by the keeper when absent
// and drop their rows after two hours (TTL).

// KeptForm is a form of a saved query that `beacon keep` computes for every tenant: its
// parameters besides the tenant (the others take their defaults).
type KeptForm struct {
	Query  string
	Params map[string]string
}

// KeptForms are the forms kept by default: the tenant-wide answers the console's pages and
// the query bench ask for with the default period (all time, or partner-activity's week up
// to today).
var KeptForms = []KeptForm{
	{"partner-activity", nil},                                                   // every partner and person
	{"partner-activity", map[string]string{"level": "partner"}},                 // the partners page
	{"partner-activity", map[string]string{"level": "partner", "stopped": "0"}}, // the overview's quiet partners
	{"search-gaps", nil},
	{"content-versions", nil},
	{"content-versions", map[string]string{"kind": "tool"}},
	{"training-scores", nil},
	{"content-outcomes", nil},
	{"campaign-ranking", nil},
	// the overview and the contents page, all time and the filter bar's last 7, 30 and 90 days
	{"content-use", nil},
	{"content-use", map[string]string{"from": "{today-6}", "to": "{today}"}},
	{"content-use", map[string]string{"from": "{today-29}", "to": "{today}"}},
	{"content-use", map[string]string{"from": "{today-89}", "to": "{today}"}},
	{"training-completion", nil}, // the training page
	// the documents and videos pages' lists
	{"content-use", map[string]string{"kind": "document"}},
	{"content-use", map[string]string{"kind": "video"}},
}

// KeptEach is a per-entity form of a saved query: the query with one parameter set, in
// turn, to each id of a list (keptLists), the busiest first, every other parameter at its
// default: the first page the console's partner, person, document and video pages ask for.
// A live answer's cost grows with its entity's use, so the busiest entities are the ones
// worth keeping; the keeper stops a round's per-entity answers when its budget is spent
// (Keeper.EachBudget), and what it did not reach is computed when asked, as before.
type KeptEach struct {
	Query string
	Param string // the parameter that takes each id
	List  string // the ids, busiest first: a key of keptLists
	// Params are the form's other parameters besides the tenant, as KeptForm.Params ("{today-N}"
	// and the like resolved on the day it is kept); the rest take their defaults.
	Params map[string]string
	// Top keeps only the Top busiest ids of the list; 0 keeps them all.
	Top int
}

// ParamsText is a form's parameters as text, "name=value" pairs sorted by name and
// separated by spaces; "" for none.
func ParamsText(p map[string]string) string {
	s := make([]string, 0, len(p))
	for k, v := range p {
		s = append(s, k+"="+v)
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// Given is the form's parameters for tenant and one id on the day of now: what the keeper
// computes, and what a caller asks for to be served this kept answer.
func (f KeptEach) Given(tenant, id string, now time.Time) (map[string]string, error) {
	given, err := KeptForm{f.Query, f.Params}.Given(tenant, now)
	if err != nil {
		return nil, err
	}
	given[f.Param] = id
	return given, nil
}

// DefaultEachBudget is beacon keep's default -keep.eachBudget.
const DefaultEachBudget = time.Minute

// DefaultEachParallel is beacon keep's default -keep.eachParallel.
const DefaultEachParallel = 2

// KeptEachForms are the per-entity forms kept by default, kept in turn: the busiest id of
// each, then the second of each, and so on.
var KeptEachForms = []KeptEach{
	{Query: "contact-timeline", Param: "partner", List: "partner"}, // a partner's page
	{Query: "partner-deals", Param: "partner", List: "partner"},    // its deals
	{Query: "video-retention", Param: "content", List: "video"},    // a video's page
	{Query: "document-views", Param: "content", List: "document"},  // a document's page
	{Query: "content-reach", Param: "content", List: "document"},   // who a document reached
	{Query: "content-reach", Param: "content", List: "video"},      // who a video reached
	{Query: "content-reach", Param: "campaign", List: "campaign"},  // who a campaign reached
	{Query: "contact-timeline", Param: "person", List: "person"},   // a person's page
	documentDays(7), documentDays(30), documentDays(90),
}

// documentDays is a document's page over the console filter bar's last n days (to is
// exclusive: the console asks up to the start of the day after the last), kept for the ten
// busiest documents, whose live answers cost most; the others are quick enough computed.
func documentDays(n int) KeptEach {
	return KeptEach{Query: "document-views", Param: "content", List: "document",
		Params: map[string]string{"from": fmt.Sprintf("{today-%d}", n-1), "to": "{today+1}"}, Top: 10}
}

// keptLists are the ids of a tenant's entities, the busiest first (ties by id), each
// read from a rollup with one cheap pass: partners by the days each used each content
// (content_partner_blocks), people by their active days (viewer_months), contents of a
// kind and campaigns by their touches (a person's or device's use of a content on a day;
// a campaign's through its contents and its links' targets).
var keptLists = map[string]string{
	// (rows of a key not merged yet are merged first, so no day counts twice)
	"partner": `SELECT partner_id FROM
(
    SELECT partner_id, groupBitOr(days) AS d FROM {db}.content_partner_blocks
    WHERE tenant = {tenant:String} AND partner_id != '' GROUP BY partner_id, content_id, block
)
GROUP BY partner_id ORDER BY sum(bitCount(d)) DESC, partner_id`,
	"person": `SELECT substring(viewer, 3) AS person FROM
(
    SELECT viewer, maxMap(lasts) AS l FROM {db}.viewer_months
    WHERE tenant = {tenant:String} AND startsWith(viewer, 'u:') GROUP BY viewer, month
)
GROUP BY viewer ORDER BY sum(length(l.1)) DESC, person`,
	"document": contentsOfKind("document"),
	"video":    contentsOfKind("video"),
	"campaign": `SELECT cc.campaign_id AS campaign_id FROM
(
    SELECT campaign_id, content_id FROM {db}.contents FINAL WHERE tenant = {tenant:String} AND campaign_id != ''
    UNION DISTINCT
    SELECT toString(campaign_id), toString(content_id) FROM {db}.campaign_links WHERE tenant = {tenant:String}
) AS cc
LEFT JOIN (SELECT content_id, count() AS n FROM {db}.touches WHERE tenant = {tenant:String} GROUP BY content_id) AS u
ON u.content_id = cc.content_id
GROUP BY campaign_id ORDER BY sum(u.n) DESC, campaign_id`,
}

func contentsOfKind(kind string) string {
	return `SELECT k.content_id AS content_id FROM
(SELECT DISTINCT toString(content_id) AS content_id FROM {db}.content_kinds WHERE tenant = {tenant:String} AND content_type = '` + kind + `') AS k
LEFT JOIN
(
    SELECT content_id, count() AS n FROM {db}.touches
    WHERE tenant = {tenant:String} AND content_id IN (SELECT content_id FROM {db}.content_kinds WHERE tenant = {tenant:String} AND content_type = '` + kind + `')
    GROUP BY content_id
) AS u ON u.content_id = k.content_id
ORDER BY u.n DESC, content_id`
}

// Given is the form's parameters for tenant on the day of now: what the keeper computes,
// and what a caller asks for to be served this kept answer.
func (f KeptForm) Given(tenant string, now time.Time) (map[string]string, error) {
	given := map[string]string{"tenant": tenant}
	for name, v := range f.Params {
		var err error
		if given[name], err = resolveDays(v, now); err != nil {
			return nil, err
		}
	}
	return given, nil
}

// resolveDays replaces a form's "{today}", "{today-N}" and "{today+N}" values with UTC
// dates: today's, N days before it and N days after it, when the answer is kept.
func resolveDays(v string, now time.Time) (string, error) {
	if !strings.HasPrefix(v, "{today") || !strings.HasSuffix(v, "}") {
		return v, nil
	}
	n := 0
	if rest := strings.TrimSuffix(strings.TrimPrefix(v, "{today"), "}"); rest != "" {
		if _, err := fmt.Sscanf(rest, "%d", &n); err != nil || n == 0 || fmt.Sprintf("%+d", n) != rest {
			return "", fmt.Errorf("kept form value %q: want {today}, {today-N} or {today+N}", v)
		}
	}
	return now.UTC().AddDate(0, 0, n).Format(time.DateOnly), nil
}

// todayParam names, per saved query, the parameter whose empty value means today (UTC): an
// answer kept for it is an answer for that day, and none is served on the next.
var todayParam = map[string]string{"partner-activity": "to"}

const keptIndex = "kept_answers"

// keptTTLHours is how long the kept tables keep their rows (TTL): far more than an answer is
// served for, so a reader never finds an answer's rows gone.
const keptTTLHours = 2

// keptTable is the table of query q's kept rows: named after the query and its SQL text.
func keptTable(q SavedQuery) string {
	h := sha256.Sum256([]byte(q.SQL))
	return "kept_" + strings.ReplaceAll(q.Name, "-", "_") + "_" + hex.EncodeToString(h[:5])
}

// keptParams fills given's defaults and today's date (todayParam) and returns the
// parameters to compute with and their canonical text: name=value pairs, tenant left out, in
// the order the query declares them.
func (q SavedQuery) keptParams(given map[string]string, now time.Time) (map[string]string, string) {
	full := map[string]string{}
	var b strings.Builder
	for _, p := range q.Params {
		v, ok := given[p.Name]
		if !ok {
			v = p.Default
		}
		if v == "" && todayParam[q.Name] == p.Name {
			v = now.UTC().Format(time.DateOnly)
		}
		full[p.Name] = v
		if p.Name == "tenant" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Name + "=" + url.QueryEscape(v))
	}
	return full, b.String()
}

// settings are those Run uses (see there), for the keeper's INSERT ... SELECT as well.
var runSettings = clickhouse.Settings{"distributed_product_mode": "allow"}

// Keeper computes the kept forms of saved queries for tenants (beacon keep).
type Keeper struct {
	Conn driver.Conn
	DB   string
	// The forms to keep: KeptForms and KeptEachForms when nil. Answer looks for a kept
	// answer only of the queries those two name.
	Forms []KeptForm
	Each  []KeptEach
	// EachBudget bounds, per tenant and round, the time spent on per-entity answers (their
	// lists included): the keeper goes down the lists, the busiest first, until it is spent.
	// 0 keeps none.
	EachBudget time.Duration
	// EachParallel is how many per-entity answers are computed at once (1 when 0): most are
	// small queries that leave a core idle, so two at a time keep more within the budget on
	// a 2-core server (DefaultEachParallel; figures in schema/README.md, "Kept answers").
	EachParallel int
	// Tenants to keep answers for; when empty, every tenant with an event (tenant_days).
	Tenants []string
	Log     io.Writer // one line per answer kept; nil for none
	// Now is the clock (time.Now when nil): an answer's computed_at is its reading when the
	// computation starts.
	Now func() time.Time

	mu      sync.Mutex
	created map[string]bool // tables known to exist
}

// KeepStats says what one round of the keeper did.
type KeepStats struct {
	Answers int           // answers kept, per-entity ones included
	Rows    uint64        // their rows
	Took    time.Duration // the round's time
	Each    int           // per-entity answers kept
	// EachLeft counts the per-entity answers the budget did not reach: computed when asked.
	EachLeft int
	// Dropped are the stale kept tables dropped (Keeper.dropStale).
	Dropped []string
}

// Once keeps every form for every tenant once. A form that fails is reported in the error
// (all failures, joined) and the others are still kept.
func (k *Keeper) Once(ctx context.Context) (KeepStats, error) {
	t0 := time.Now()
	var st KeepStats
	tenants := k.Tenants
	if len(tenants) == 0 {
		var err error
		if tenants, err = k.allTenants(ctx); err != nil {
			return st, err
		}
	}
	forms := k.Forms
	if forms == nil {
		forms = KeptForms
	}
	var errs []error
	for _, f := range forms {
		q, err := LookupQuery(f.Query)
		if err != nil {
			return st, err
		}
		for _, t := range tenants {
			given, err := f.Given(t, k.now())
			if err != nil {
				return st, err
			}
			rows, took, key, err := k.keep(ctx, q, given)
			if err != nil {
				errs = append(errs, fmt.Errorf("keep %s (%s) for tenant %q: %w", q.Name, key, t, err))
				continue
			}
			st.Answers++
			st.Rows += rows
			if k.Log != nil {
				fmt.Fprintf(k.Log, "kept %s (%s) for tenant %q: %d rows in %s\n", q.Name, key, t, rows, took.Round(time.Millisecond))
			}
		}
	}
	if k.EachBudget > 0 {
		each := k.Each
		if each == nil {
			each = KeptEachForms
		}
		for _, t := range tenants {
			n, left, rows, err := k.keepEach(ctx, each, t)
			st.Each += n
			st.EachLeft += left
			st.Answers += n
			st.Rows += rows
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	dropped, err := k.dropStale(ctx)
	st.Dropped = dropped
	if err != nil {
		errs = append(errs, err)
	}
	st.Took = time.Since(t0)
	return st, errors.Join(errs...)
}

// dropStale drops the kept tables that no saved query of this binary names (the query's
// SQL changed, or it is gone) and that no answer was kept in for the rows' time to live
// (kept_answers): no keeper of an older release still fills them, and no answer in them
// could be served. It returns the tables dropped.
func (k *Keeper) dropStale(ctx context.Context) ([]string, error) {
	qs, err := SavedQueries()
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{keptIndex: true} // the tables of this release's queries, and those kept in lately
	for _, q := range qs {
		keep[keptTable(q)] = true
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"db": k.DB}))
	names, err := queryStrings(ctx, k.Conn, "SELECT DISTINCT table FROM system.columns WHERE database = {db:String} "+
		"AND startsWith(table, 'kept_') AND name = '_kept_at' ORDER BY table")
	if err != nil {
		return nil, fmt.Errorf("cannot list the kept tables: %w", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	// the tables an answer was kept in lately (kept_answers has a row for every answer kept,
	// an empty one too)
	recent, err := queryStrings(ctx, k.Conn, fmt.Sprintf("SELECT DISTINCT tbl FROM `%s`.%s WHERE computed_at >= now64(3) - INTERVAL %d HOUR",
		k.DB, keptIndex, keptTTLHours))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", keptIndex, err)
	}
	for _, name := range recent {
		keep[name] = true
	}
	var dropped []string
	var errs []error
	for _, name := range names {
		if keep[name] {
			continue
		}
		if err := k.Conn.Exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS `%s`.`%s`", k.DB, name)); err != nil {
			errs = append(errs, fmt.Errorf("cannot drop the stale kept table %s: %w", name, err))
			continue
		}
		dropped = append(dropped, name)
		if k.Log != nil {
			fmt.Fprintf(k.Log, "dropped the kept table %s: no saved query of this release writes it, and no answer was kept in it for %d hours\n", name, keptTTLHours)
		}
	}
	return dropped, errors.Join(errs...)
}

// keepEach keeps the per-entity forms for one tenant, taking the busiest id of every form,
// then the second of each, and so on (k.EachParallel at a time), until k.EachBudget is
// spent; it returns the answers kept, those left for want of time, and their rows.
func (k *Keeper) keepEach(ctx context.Context, each []KeptEach, tenant string) (n, left int, rows uint64, err error) {
	t0 := time.Now()
	spent := func() bool { return time.Since(t0) >= k.EachBudget }
	var errs []error
	lists := map[string][]string{}
	queries := make([]SavedQuery, len(each))
	formIDs := make([][]string, len(each)) // each form's ids: its list's, or its Top
	longest := 0
	for i, f := range each {
		if queries[i], err = LookupQuery(f.Query); err != nil {
			return 0, 0, 0, err
		}
		if _, ok := lists[f.List]; !ok {
			ids, err := k.list(ctx, f.List, tenant)
			if err != nil {
				errs = append(errs, fmt.Errorf("keep per-entity answers for tenant %q: %w", tenant, err))
			}
			lists[f.List] = ids
		}
		formIDs[i] = lists[f.List]
		if f.Top > 0 && len(formIDs[i]) > f.Top {
			formIDs[i] = formIDs[i][:f.Top]
		}
		longest = max(longest, len(formIDs[i]))
	}
	type tally struct {
		kept, left int
		rows       uint64
	}
	tallies := make([]tally, len(each))
	// the answers in the order they are kept: the busiest id of every form, then the second...
	type task struct {
		form  int
		given map[string]string
	}
	var tasks []task
	for r := 0; r < longest; r++ {
		for i, f := range each {
			if r >= len(formIDs[i]) {
				continue
			}
			given, err := f.Given(tenant, formIDs[i][r], k.now())
			if err != nil {
				return 0, 0, 0, err
			}
			tasks = append(tasks, task{i, given})
		}
	}
	// EachParallel workers take them in that order; one that finds the budget spent counts
	// the task left
	var mu sync.Mutex
	next := 0
	work := func() {
		for {
			mu.Lock()
			if next == len(tasks) {
				mu.Unlock()
				return
			}
			t := tasks[next]
			next++
			if spent() || ctx.Err() != nil {
				tallies[t.form].left++
				mu.Unlock()
				continue
			}
			mu.Unlock()
			got, _, key, err := k.keep(ctx, queries[t.form], t.given)
			mu.Lock()
			if err != nil {
				errs = append(errs, fmt.Errorf("keep %s (%s) for tenant %q: %w", each[t.form].Query, key, tenant, err))
			} else {
				tallies[t.form].kept++
				tallies[t.form].rows += got
			}
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < max(1, k.EachParallel); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
	for i, f := range each {
		n += tallies[i].kept
		left += tallies[i].left
		rows += tallies[i].rows
		if k.Log != nil {
			fmt.Fprintf(k.Log, "kept %s for %d of %d %s ids (%s%s) for tenant %q: %d rows\n", f.Query, tallies[i].kept,
				len(formIDs[i]), f.List, f.Param, strings.TrimRight(" "+ParamsText(f.Params), " "), tenant, tallies[i].rows)
		}
	}
	if k.Log != nil {
		fmt.Fprintf(k.Log, "kept %d per-entity answers for tenant %q in %s; %d left for want of time (-keep.eachBudget %s)\n",
			n, tenant, time.Since(t0).Round(time.Millisecond), left, k.EachBudget)
	}
	return n, left, rows, errors.Join(errs...)
}

// list reads a tenant's ids of one of keptLists, the busiest first.
func (k *Keeper) list(ctx context.Context, name, tenant string) ([]string, error) {
	sql, ok := keptLists[name]
	if !ok {
		return nil, fmt.Errorf("no list of ids %q", name)
	}
	ids, err := queryStrings(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"tenant": tenant})), k.Conn,
		strings.ReplaceAll(sql, "{db}", "`"+k.DB+"`"))
	if err != nil {
		return nil, fmt.Errorf("cannot list the %s ids: %w", name, err)
	}
	return ids, nil
}

func (k *Keeper) allTenants(ctx context.Context) ([]string, error) {
	ts, err := queryStrings(ctx, k.Conn, fmt.Sprintf("SELECT DISTINCT toString(tenant) FROM `%s`.tenant_days ORDER BY 1", k.DB))
	if err != nil {
		return nil, fmt.Errorf("cannot list the tenants (tenant_days): %w", err)
	}
	return ts, nil
}

// queryStrings reads the one String column of sql's rows.
func queryStrings(ctx context.Context, conn driver.Conn, sql string) ([]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (k *Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// keep computes one answer into its table, then records it in kept_answers.
func (k *Keeper) keep(ctx context.Context, q SavedQuery, given map[string]string) (uint64, time.Duration, string, error) {
	at := k.now().UTC().Truncate(time.Millisecond)
	full, key := q.keptParams(given, at)
	sql, params, err := q.Bind(k.DB, full)
	if err != nil {
		return 0, 0, key, err
	}
	table := keptTable(q)
	if err := k.ensure(ctx, table, sql, params); err != nil {
		return 0, 0, key, err
	}
	params["kept_tenant"], params["kept_params"], params["kept_at"] = full["tenant"], key, at.Format("2006-01-02 15:04:05.000")
	var wrote uint64
	ictx := clickhouse.Context(ctx, clickhouse.WithParameters(params), clickhouse.WithSettings(runSettings),
		clickhouse.WithProgress(func(p *clickhouse.Progress) { wrote += p.WroteRows }))
	t0 := time.Now()
	if err := k.Conn.Exec(ictx, fmt.Sprintf("INSERT INTO `%s`.`%s` SELECT {kept_tenant:String}, {kept_params:String}, "+
		"toDateTime64({kept_at:String}, 3, 'UTC'), rowNumberInAllBlocks(), * FROM (%s)", k.DB, table, sql)); err != nil {
		return 0, 0, key, err
	}
	took := time.Since(t0)
	// (a time.Time argument would be sent in whole seconds)
	ix := clickhouse.Parameters{"t": full["tenant"], "q": q.Name, "k": key, "at": params["kept_at"],
		"rows": fmt.Sprint(wrote), "ms": fmt.Sprint(took.Milliseconds()), "tbl": table}
	if err := k.Conn.Exec(clickhouse.Context(ctx, clickhouse.WithParameters(ix)), fmt.Sprintf("INSERT INTO `%s`.%s (tenant, query, params, computed_at, rows, took_ms, tbl) "+
		"SELECT {t:String}, {q:String}, {k:String}, toDateTime64({at:String}, 3, 'UTC'), {rows:UInt64}, {ms:UInt32}, {tbl:String}", k.DB, keptIndex)); err != nil {
		return 0, 0, key, err
	}
	return wrote, took, key, nil
}

// ensure creates kept_answers and the query's table when this keeper has not seen them.
func (k *Keeper) ensure(ctx context.Context, table, sql string, params clickhouse.Parameters) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.created == nil {
		k.created = map[string]bool{}
	}
	if !k.created[keptIndex] {
		if err := k.Conn.Exec(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS `%s`.%s (tenant String, query String, params String, "+
			"computed_at DateTime64(3, 'UTC'), rows UInt64, took_ms UInt32, tbl String) ENGINE = MergeTree "+
			"ORDER BY (tenant, query, params, computed_at) TTL toDateTime(computed_at) + INTERVAL %d HOUR", k.DB, keptIndex, keptTTLHours)); err != nil {
			return fmt.Errorf("cannot create %s: %w", keptIndex, err)
		}
		k.created[keptIndex] = true
	}
	if k.created[table] {
		return nil
	}
	// EMPTY AS SELECT takes the columns (names and types) from the saved query itself.
	cctx := clickhouse.Context(ctx, clickhouse.WithParameters(params), clickhouse.WithSettings(runSettings))
	if err := k.Conn.Exec(cctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS `%s`.`%s` ENGINE = MergeTree PARTITION BY toStartOfHour(_kept_at) "+
		"ORDER BY (_kept_tenant, _kept_params, _kept_at, _kept_seq) TTL toDateTime(_kept_at) + INTERVAL %d HOUR "+
		"SETTINGS ttl_only_drop_parts = 1 EMPTY AS SELECT '' AS _kept_tenant, '' AS _kept_params, "+
		"toDateTime64(0, 3, 'UTC') AS _kept_at, toUInt64(0) AS _kept_seq, * FROM (%s)", k.DB, table, keptTTLHours, sql)); err != nil {
		return fmt.Errorf("cannot create %s: %w", table, err)
	}
	k.created[table] = true
	return nil
}

// Answer answers saved query q like Run, from its latest kept answer when one was computed
// within maxAge for these parameters (Result.KeptAt says when); otherwise, or when maxAge is
// 0 or the kept answer cannot be read, by running it.
func (q SavedQuery) Answer(ctx context.Context, conn driver.Conn, db string, given map[string]string, maxAge time.Duration) (*Result, error) {
	if maxAge > 0 && keptQueries()[q.Name] {
		if _, _, err := q.Bind(db, given); err != nil {
			return nil, err
		}
		if res, err := q.kept(ctx, conn, db, given, maxAge); err == nil && res != nil {
			return res, nil
		}
	}
	return q.Run(ctx, conn, db, given)
}

// keptQueries are the saved queries with a kept form: only they are looked for in
// kept_answers (the others are computed at once).
var keptQueries = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, f := range KeptForms {
		m[f.Query] = true
	}
	for _, f := range KeptEachForms {
		m[f.Query] = true
	}
	return m
})

// keptFilters names, per saved query, the parameters that only pick rows out of the answer
// with the parameter empty: a form asked with them set is served from that kept answer's
// rows whose column equals the value (TestKeptAnswersEqualLive compares every such subset
// with the live answer).
var keptFilters = map[string][]struct{ param, column string }{
	"partner-activity":    {{"partner", "partner_id"}},
	"search-gaps":         {{"partner", "partner_id"}},
	"training-scores":     {{"course", "course_id"}, {"partner", "partner_id"}},
	"content-versions":    {{"content", "content_id"}, {"kind", "content_type"}},
	"training-completion": {{"course", "course_id"}, {"partner", "partner_id"}},
}

// kept reads the latest kept answer younger than maxAge for these parameters, or the rows
// of one for the same parameters with the filters (keptFilters) empty; or returns nil.
func (q SavedQuery) kept(ctx context.Context, conn driver.Conn, db string, given map[string]string, maxAge time.Duration) (*Result, error) {
	now := time.Now().UTC()
	full, key := q.keptParams(given, now)
	table := keptTable(q)
	params := clickhouse.Parameters{"t": full["tenant"], "q": q.Name, "tbl": table,
		"since": now.Add(-maxAge).Format("2006-01-02 15:04:05.000")}
	latest := func(key string) (time.Time, error) {
		params["k"] = key
		var at time.Time
		err := conn.QueryRow(clickhouse.Context(ctx, clickhouse.WithParameters(params)), fmt.Sprintf(
			"SELECT computed_at FROM `%s`.%s WHERE tenant = {t:String} AND query = {q:String} AND params = {k:String} "+
				"AND tbl = {tbl:String} AND computed_at >= toDateTime64({since:String}, 3, 'UTC') ORDER BY computed_at DESC LIMIT 1",
			db, keptIndex)).Scan(&at)
		return at, err // sql: no rows when none is kept; an error when kept_answers does not exist yet
	}
	at, err := latest(key)
	var where string
	if err != nil {
		base := map[string]string{}
		for k, v := range given {
			base[k] = v
		}
		for i, f := range keptFilters[q.Name] {
			if v := base[f.param]; v != "" {
				where += fmt.Sprintf(" AND `%s` = {f%d:String}", f.column, i)
				params[fmt.Sprintf("f%d", i)] = v
				base[f.param] = ""
			}
		}
		if where == "" {
			return nil, err
		}
		_, key = q.keptParams(base, now)
		if at, err = latest(key); err != nil {
			return nil, err
		}
	}
	cols, err := keptColumns(ctx, conn, db, table)
	if err != nil {
		return nil, err
	}
	// An array of strings is read as one string of length-prefixed elements: the driver scans
	// arrays element by element through reflection, which took most of the time of the kept
	// answers with partner and people lists (content-versions, training-scores).
	sel := make([]string, len(cols))
	var packed []int
	for i, c := range cols {
		name := "`" + strings.ReplaceAll(c.name, "`", "``") + "`"
		sel[i] = name
		if c.typ == "Array(String)" || c.typ == "Array(LowCardinality(String))" {
			sel[i] = "arrayStringConcat(arrayMap(x -> concat(toString(length(x)), ':', x), " + name + ")) AS " + name
			packed = append(packed, i)
		}
	}
	params["at"] = at.UTC().Format("2006-01-02 15:04:05.000")
	rows, err := conn.Query(clickhouse.Context(ctx, clickhouse.WithParameters(params)), fmt.Sprintf(
		"SELECT %s FROM `%s`.`%s` WHERE _kept_tenant = {t:String} AND _kept_params = {k:String} "+
			"AND _kept_at = toDateTime64({at:String}, 3, 'UTC')%s ORDER BY _kept_seq", strings.Join(sel, ", "), db, table, where))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res, err := scanAll(rows)
	if err != nil {
		return nil, err
	}
	for _, i := range packed {
		res.Types[i] = cols[i].typ
		for _, row := range res.Rows {
			if row[i], err = unpackStrings(row[i].(string)); err != nil {
				return nil, fmt.Errorf("kept %s, column %s: %w", table, cols[i].name, err)
			}
		}
	}
	res.KeptAt = at.UTC()
	return res, nil
}

type keptColumn struct{ name, typ string }

// keptCols caches each kept table's answer columns: a table's name carries its query's hash,
// so its columns never change.
var keptCols sync.Map // table -> []keptColumn

func keptColumns(ctx context.Context, conn driver.Conn, db, table string) ([]keptColumn, error) {
	if c, ok := keptCols.Load(db + "." + table); ok {
		return c.([]keptColumn), nil
	}
	rows, err := conn.Query(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"db": db, "tbl": table})),
		"SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {tbl:String} "+
			"AND name NOT IN ('_kept_tenant', '_kept_params', '_kept_at', '_kept_seq') ORDER BY position")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []keptColumn
	for rows.Next() {
		var c keptColumn
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no table %s.%s", db, table)
	}
	keptCols.Store(db+"."+table, cols)
	return cols, nil
}

// unpackStrings reads the elements of an array written as concatenated "<bytes>:<element>";
// an empty array is an empty (not nil) slice, as the driver scans it.
func unpackStrings(s string) ([]string, error) {
	out := []string{}
	for len(s) > 0 {
		colon := strings.IndexByte(s, ':')
		n, err := strconv.Atoi(s[:max(colon, 0)])
		if colon <= 0 || err != nil || n < 0 || n > len(s)-colon-1 {
			return nil, fmt.Errorf("malformed packed array at %q", s[:min(len(s), 20)])
		}
		out = append(out, s[colon+1:colon+1+n])
		s = s[colon+1+n:]
	}
	return out, nil
}
