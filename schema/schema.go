// Package schema holds the ClickHouse schema of beacon: versioned migrations (raw events,
// rollups fed by materialized views, dimension tables, views for BI tools), the saved
// queries that answer the partner-engagement questions, and the CSV importer of the
// dimension tables.
//
// Migrations are written once, for a single node, with placeholders ({db}, {ttl_days},
// {dedup_window}); Render produces either the single-node flavor or the cluster flavor
// (Replicated*MergeTree local tables, Distributed tables over them, ON CLUSTER) from the
// same text.
package schema

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options selects the database and the flavor a schema is rendered for.
type Options struct {
	// Database holds every beacon table. Default "beacon".
	Database string
	// TTLDays is how long raw events are kept. Default 395 (13 months, so a year can be
	// compared with the previous one).
	TTLDays int
	// DedupWindow is how many recent insert blocks each table remembers so that a retried
	// insert with the same insert_deduplication_token is dropped. Default 10000: the ingest
	// inserts a few blocks per second, so this covers hours of retries.
	DedupWindow int
	// Cluster, if set, renders the cluster flavor: ON CLUSTER <Cluster>, Replicated engines
	// for <table>_local and a Distributed <table> over them. Empty means a single node.
	Cluster string
	// NodeByNode renders the cluster flavor without ON CLUSTER, for a runner that applies
	// every DDL statement to every node itself (MigrateNodes): where the distributed DDL
	// worker is unavailable, as in the local engine the tests run.
	NodeByNode bool
	// PlainEngines is for tests only: the cluster flavor keeps the plain *MergeTree engines
	// instead of Replicated*MergeTree, because the local engine the tests run cannot
	// replicate (it starts no interserver listener). With a cluster whose remote_servers
	// say internal_replication=false, the Distributed tables then write every replica.
	// Never use it in production: replicas would drift apart on any write that bypasses
	// the Distributed tables, and a lost replica could not fetch its parts back.
	PlainEngines bool
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.Database == "" {
		o.Database = "beacon"
	}
	if o.TTLDays == 0 {
		o.TTLDays = 395
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = 10000
	}
	return o
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports options that cannot be rendered safely.
func (o Options) Validate() error {
	o = o.WithDefaults()
	if !identRE.MatchString(o.Database) {
		return fmt.Errorf("database name %q must match %s", o.Database, identRE)
	}
	if o.TTLDays < 1 {
		return fmt.Errorf("ttl days must be at least 1, got %d", o.TTLDays)
	}
	if o.DedupWindow < 1 {
		return fmt.Errorf("dedup window must be at least 1, got %d", o.DedupWindow)
	}
	if o.Cluster != "" && !identRE.MatchString(o.Cluster) {
		return fmt.Errorf("cluster name %q must match %s", o.Cluster, identRE)
	}
	if o.Cluster == "" && (o.NodeByNode || o.PlainEngines) {
		return errors.New("node-by-node and plain-engine renderings are cluster flavors: set the cluster name")
	}
	return nil
}

// Migration is one numbered file of migrations/.
type Migration struct {
	Version uint32
	Name    string // file name without the number and extension, e.g. "events"
	SQL     string // raw text with placeholders
}

var migrationNameRE = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFS, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list migrations: %w", err)
	}
	var ms []Migration
	seen := map[uint32]string{}
	for _, e := range entries {
		m := migrationNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q must be named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.ParseUint(m[1], 10, 32)
		if prev, ok := seen[uint32(v)]; ok {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev, e.Name(), v)
		}
		seen[uint32(v)] = e.Name()
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("cannot read migration %q: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: uint32(v), Name: m[2], SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Rendered is one migration turned into executable statements for one flavor.
type Rendered struct {
	Migration
	Statements []string
}

// Render turns migrations into statements for o's flavor. It needs all migrations at once
// because the cluster flavor renames every MergeTree table created anywhere to <name>_local
// inside materialized views.
func Render(ms []Migration, o Options) ([]Rendered, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	out := make([]Rendered, 0, len(ms))
	local := map[string]bool{} // MergeTree tables: the cluster flavor keeps their data in <name>_local
	feeds := rollupFeeds{}     // what BACKFILL statements expand to
	// Tables a refreshable materialized view writes: the server refuses such a view over a
	// replicated table in a non-replicated database (each refresh would replace the table
	// on one replica only), so the cluster flavor keeps them unreplicated; every replica
	// refreshes its own copy from its shard's local tables.
	refreshed := map[string]bool{}
	for _, m := range ms {
		for _, t := range refreshTargetRE.FindAllStringSubmatch(m.SQL, -1) {
			refreshed[t[1]] = true
		}
	}
	for _, m := range ms {
		stmts, err := SplitStatements(m.SQL)
		if err != nil {
			return nil, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		for _, s := range stmts {
			if c := createTableRE.FindStringSubmatch(s); c != nil && mergeTreeRE.MatchString(s) {
				local[c[2]] = true
			}
		}
		r := Rendered{Migration: m}
		for _, s := range stmts {
			if s, err = feeds.expand(s); err != nil {
				return nil, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			s = substitute(s, o)
			if o.Cluster == "" {
				r.Statements = append(r.Statements, s)
				continue
			}
			cs, err := clusterize(s, o, local, refreshed)
			if err != nil {
				return nil, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			r.Statements = append(r.Statements, cs...)
		}
		out = append(out, r)
	}
	return out, nil
}

// rollupFeeds tracks, statement by statement, the query of the materialized view that
// currently feeds each rollup table (as created, or as changed by ALTER TABLE <view>
// MODIFY QUERY), so that a migration can fill a new rollup from the events already stored
// with `BACKFILL {db}.<table>;` instead of repeating that query: it expands to
// `INSERT INTO {db}.<table>` followed by exactly the view's query.
type rollupFeeds struct {
	query  map[string]string // table -> its view's query, unsubstituted
	target map[string]string // view -> table
}

var (
	mvFeedRE   = regexp.MustCompile(lead + `CREATE\s+MATERIALIZED\s+VIEW\s+IF\s+NOT\s+EXISTS\s+\{db\}\.(\w+)\s+TO\s+\{db\}\.(\w+)\s+AS\n(.*)$`)
	mvDropRE   = regexp.MustCompile(lead + `DROP\s+VIEW\s+IF\s+EXISTS\s+\{db\}\.(\w+)\s*$`)
	mvAlterRE  = regexp.MustCompile(lead + `ALTER\s+TABLE\s+\{db\}\.(\w+)\s+MODIFY\s+QUERY\n(.*)$`)
	backfillRE = regexp.MustCompile(`(?is)^((?:\s*--[^\n]*\n)*\s*)BACKFILL\s+\{db\}\.(\w+)\s*$`)
)

// expand returns s, or the INSERT ... SELECT that s names if it is a BACKFILL, and notes
// the views s creates or drops.
func (f *rollupFeeds) expand(s string) (string, error) {
	if f.query == nil {
		f.query, f.target = map[string]string{}, map[string]string{}
	}
	if m := mvFeedRE.FindStringSubmatch(s); m != nil {
		f.query[m[2]], f.target[m[1]] = m[3], m[2]
		return s, nil
	}
	if m := mvAlterRE.FindStringSubmatch(s); m != nil {
		if t, ok := f.target[m[1]]; ok {
			f.query[t] = m[2]
		}
		return s, nil
	}
	if m := mvDropRE.FindStringSubmatch(s); m != nil {
		if t, ok := f.target[m[1]]; ok {
			delete(f.query, t)
			delete(f.target, m[1])
		}
		return s, nil
	}
	if m := backfillRE.FindStringSubmatch(s); m != nil {
		q, ok := f.query[m[2]]
		if !ok {
			return "", fmt.Errorf("BACKFILL {db}.%s: no materialized view feeds %s at this point", m[2], m[2])
		}
		return m[1] + "INSERT INTO {db}." + m[2] + "\n" + q, nil
	}
	return s, nil
}

func substitute(s string, o Options) string {
	return strings.NewReplacer(
		"{db}", o.Database,
		"{ttl_days}", strconv.Itoa(o.TTLDays),
		"{dedup_window}", strconv.Itoa(o.DedupWindow),
	).Replace(s)
}

// lead matches the comment lines a statement may start with.
const lead = `(?is)^(?:\s*--[^\n]*\n)*\s*`

var (
	createTableRE   = regexp.MustCompile(lead + `CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\{db\}|\w+)\.(\w+)`)
	createMVRE      = regexp.MustCompile(lead + `CREATE\s+MATERIALIZED\s+VIEW\s+IF\s+NOT\s+EXISTS\s+(\w+)\.(\w+)`)
	createViewRE    = regexp.MustCompile(lead + `CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\.(\w+)`)
	alterRE         = regexp.MustCompile(lead + `(ALTER\s+TABLE|DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?)\s+(\w+)\.(\w+)`)
	mergeTreeRE     = regexp.MustCompile(`(?is)\bENGINE\s*=\s*(\w*)MergeTree\b(\s*\(([^)]*)\))?`)
	shardByRE       = regexp.MustCompile(`(?m)^\s*--\s*shard by:\s*(.+?)\s*$`)
	insertRE        = regexp.MustCompile(lead + `INSERT\s+INTO\s+(\w+)\.(\w+)\s+SELECT\b`)
	modifyQueryRE   = regexp.MustCompile(`(?is)^\s*MODIFY\s+QUERY\b`)
	columnAlterRE   = regexp.MustCompile(`(?is)^\s*(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b`)
	refreshTargetRE = regexp.MustCompile(`(?is)\bREFRESH\s+EVERY\b[^;]*?\bTO\s+\{db\}\.(\w+)`)
	// cteFromRE finds a WITH name AS (SELECT ... FROM db.table WHERE|GROUP|) subquery
	// that reads one table without an alias.
	cteFromRE = regexp.MustCompile(`(?is)(\bWITH\s+(\w+)\s+AS\s*\(\s*SELECT\b[^()]*?\bFROM\s+(\w+)\.(\w+))(\s+(?:WHERE|GROUP|\)))`)
)

// IsBackfill reports whether a rendered statement is a backfill (INSERT INTO t SELECT ...)
// rather than DDL: it fills a new rollup from the raw events already stored.
func IsBackfill(s string) bool { return insertRE.MatchString(s) }

// clusterize rewrites one single-node statement into its cluster flavor.
func clusterize(s string, o Options, local, refreshed map[string]bool) ([]string, error) {
	on := " ON CLUSTER " + o.Cluster
	if o.NodeByNode {
		on = ""
	}
	db := o.Database
	if c := createTableRE.FindStringSubmatchIndex(s); c != nil {
		name := s[c[4]:c[5]]
		m := mergeTreeRE.FindStringSubmatchIndex(s)
		if m == nil {
			return []string{s[:c[1]] + on + s[c[1]:]}, nil
		}
		kind := s[m[2]:m[3]]
		args := ""
		if m[6] >= 0 && strings.TrimSpace(s[m[6]:m[7]]) != "" {
			args = ", " + strings.TrimSpace(s[m[6]:m[7]])
		}
		engine := fmt.Sprintf("ENGINE = Replicated%sMergeTree('/clickhouse/tables/{shard}/%s/%s_local', '{replica}'%s)", kind, db, name, args)
		if o.PlainEngines || refreshed[name] {
			engine = s[m[0]:m[1]]
		}
		localStmt := s[:c[4]] + name + "_local" + on + s[c[1]:m[0]] + engine + s[m[1]:]
		shard := "rand()"
		if sb := shardByRE.FindStringSubmatch(s); sb != nil {
			shard = sb[1]
		}
		dist := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s_local ENGINE = Distributed(%s, %s, %s_local, %s)",
			db, name, on, db, name, o.Cluster, db, name, shard)
		return []string{localStmt, dist}, nil
	}
	toLocal := func(body string) string {
		for name := range local {
			body = regexp.MustCompile(`\b`+regexp.QuoteMeta(db)+`\.`+name+`\b`).ReplaceAllString(body, db+"."+name+"_local")
		}
		return body
	}
	if c := createMVRE.FindStringSubmatchIndex(s); c != nil {
		// A materialized view fires on the shard that stores the inserted block, so it reads
		// from and writes to the local tables; queries go through the Distributed ones.
		return []string{s[:c[1]] + on + toLocal(s[c[1]:])}, nil
	}
	if c := createViewRE.FindStringSubmatchIndex(s); c != nil {
		return []string{s[:c[1]] + on + aliasCTETables(s[c[1]:], db, local)}, nil
	}
	if insertRE.MatchString(s) {
		// A backfill runs once, from the migrating node, through the Distributed tables:
		// the SELECT reads every shard and the rows go to the shards by the target's key.
		// INSERT has no ON CLUSTER; that is what makes it run once.
		return []string{s}, nil
	}
	if c := alterRE.FindStringSubmatchIndex(s); c != nil {
		name := s[c[6]:c[7]]
		isAlter := strings.HasPrefix(strings.ToUpper(s[c[2]:c[3]]), "ALTER")
		tbl := name
		if local[name] && isAlter {
			tbl = name + "_local"
		}
		rest := s[c[1]:]
		if modifyQueryRE.MatchString(rest) {
			rest = toLocal(rest) // a view's new query reads local tables, as at its creation
		}
		out := []string{s[:c[6]] + tbl + on + rest}
		if local[name] && !isAlter && strings.Contains(strings.ToUpper(s[c[2]:c[3]]), "TABLE") {
			// dropping a MergeTree table drops its Distributed table, then the data
			out = append(out, s[:c[6]]+name+"_local"+on+s[c[1]:])
		}
		if local[name] && isAlter && columnAlterRE.MatchString(rest) {
			// the Distributed table has the same columns as its local table
			out = append(out, s[:c[6]]+name+on+rest)
		}
		return out, nil
	}
	return nil, fmt.Errorf("statement has no cluster flavor (only CREATE TABLE/VIEW/MATERIALIZED VIEW IF NOT EXISTS, ALTER, DROP, INSERT INTO ... SELECT): %.60q", s)
}

// aliasCTETables gives an alias to a Distributed table read alone in a WITH subquery
// (WITH touched AS (SELECT ... FROM db.t WHERE ...) ... IN touched). A view run with
// distributed_product_mode = 'local' reads such a subquery on each shard from the local
// table, and the server refuses to do that for a Distributed table without an alias
// (Code 288, DISTRIBUTED_IN_JOIN_SUBQUERY_DENIED).
func aliasCTETables(body, db string, local map[string]bool) string {
	return cteFromRE.ReplaceAllStringFunc(body, func(m string) string {
		g := cteFromRE.FindStringSubmatch(m)
		if g[3] != db || !local[g[4]] {
			return m
		}
		return g[1] + " AS " + g[2] + "_" + g[4] + g[5]
	})
}

// SplitStatements splits SQL text into statements at semicolons outside quotes and
// comments. Comment-only fragments are dropped; comments inside a statement are kept
// (the cluster flavor reads "-- shard by:" from them).
func SplitStatements(text string) ([]string, error) {
	var out []string
	start := 0
	flush := func(end int) {
		s := strings.TrimSpace(text[start:end])
		if s != "" && !onlyComments(s) {
			out = append(out, s)
		}
		start = end + 1
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i += j + 3
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(text); j++ {
				if text[j] == '\\' {
					j++
					continue
				}
				if text[j] == c {
					break
				}
			}
			if j >= len(text) {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			i = j
		case c == ';':
			flush(i)
		}
	}
	flush(len(text))
	return out, nil
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
