package schema

import (
	"bytes"
	"encoding/json"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
)

// TestCommands runs the real beacon binary's migrate, import and query subcommands
// against the test server, as a user would.
func TestCommands(t *testing.T) {
	bin := testenv.BuildBeacon(t)
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	dir := t.TempDir()
	beacon := func(wantOK bool, args ...string) (string, string) {
		t.Helper()
		args = append(args[:1:1], append([]string{"-clickhouse.addr", ch.NativeAddr, "-clickhouse.database", ch.Database}, args[1:]...)...)
		cmd := osexec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if (err == nil) != wantOK {
			t.Fatalf("beacon %s: err %v, want ok=%v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, wantOK, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	out, _ := beacon(true, "migrate", "status")
	if !regexp.MustCompile(`0001\s+events\s+pending`).MatchString(out) {
		t.Fatalf("status before up:\n%s", out)
	}
	out, _ = beacon(true, "migrate", "up")
	if !strings.Contains(out, "applied 0001") || !strings.Contains(out, "applied 0004") {
		t.Fatalf("first up:\n%s", out)
	}
	if out, _ = beacon(true, "migrate", "up"); strings.TrimSpace(out) != "up to date" {
		t.Fatalf("second up:\n%s", out)
	}
	if out, _ = beacon(true, "migrate", "status"); strings.Contains(out, "pending") {
		t.Fatalf("status after up:\n%s", out)
	}
	// No background merges in content_kinds, so that what `beacon refresh` compacts is known.
	exec(t, conn, "ALTER TABLE "+ch.Database+".content_kinds MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1")

	partners := file("partners.csv", goldenPartners)
	out, _ = beacon(true, "import", "-import.tenant", "acme", "partners", partners)
	if !strings.Contains(out, "imported 3 rows") {
		t.Fatalf("import: %s", out)
	}
	beacon(true, "import", "partners", partners, "-import.tenant", "acme") // flags after the arguments, again
	_, errOut := beacon(false, "import", "-import.tenant", "acme", "deals", file("deals.csv", "deal_id,partner_id,amount,stage\nk1,p1,5,won\nk2,p1,five,won\n"))
	if !strings.Contains(errOut, "line 3: column amount") {
		t.Fatalf("bad import stderr:\n%s", errOut)
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM "+ch.Database+".deals"); n != 0 {
		t.Fatalf("a bad file imported %d rows", n)
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM "+ch.Database+".partners FINAL"); n != 3 {
		t.Fatalf("partners after two imports: %d", n)
	}

	insert(t, conn, ch.Database, "", goldenVideo...)
	out, _ = beacon(true, "query", "video-retention", "-param", "tenant=acme", "-param", "content=vid1", "-format", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if len(rows) != 20 || rows[3]["viewers"] != float64(2) || rows[3]["drop_rank"] != float64(1) || rows[0]["play_rate"] != 0.75 {
		t.Fatalf("json rows: %v", rows)
	}
	out, _ = beacon(true, "query", "-format", "csv", "-param", "tenant=acme", "-param", "content=vid1", "video-retention")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 21 || lines[0] != "second,viewers,retention,drop,drop_rank,loads,plays,play_rate" || lines[9] != "8,1,0.3333,1,2,4,3,0.75" {
		t.Fatalf("csv output:\n%s", out)
	}
	out, _ = beacon(true, "query", "campaign-ranking", "-param", "tenant=acme")
	if !strings.HasPrefix(out, "campaign_id  campaign_name  rank  partner_id") {
		t.Fatalf("table output:\n%s", out)
	}
	for _, c := range []struct{ args, want string }{
		{"video-retention -param tenant=acme", "needs -param content"},
		{"video-retention -param tenant=acme -param content=v -param nope=1", `no parameter "nope"`},
		{"no-such-query -param tenant=acme", `no saved query "no-such-query"`},
		{"video-retention -param tenant=acme -param content=v -format xml", `-format "xml"`},
	} {
		_, errOut := beacon(false, append([]string{"query"}, strings.Fields(c.args)...)...)
		if !strings.Contains(errOut, c.want) {
			t.Fatalf("beacon query %s: stderr %q, want %q", c.args, errOut, c.want)
		}
	}
	// events written without the ingest show in document-views after `beacon refresh`
	insert(t, conn, ch.Database, "", goldenDocs...)
	if out, _ = beacon(true, "query", "document-views", "-param", "tenant=acme", "-param", "content=doc1", "-format", "csv"); strings.Count(out, "\n") != 1 {
		t.Fatalf("document-views before the refresh: want the header only\n%s", out)
	}
	if out, _ = beacon(true, "refresh", "-refresh.since", "10m"); !strings.HasPrefix(out, "refreshed 6 rows (document viewers, stitching claims, content versions and searches) in ") {
		t.Fatalf("refresh: %q, want 6 rows (doc1: u1, u3, a1; doc2: u2, u9; the other tenant's doc1: u1; no claims: no device there was anonymous, then identified)", out)
	}
	// content_kinds has a part from the video events and one from the documents'
	if !strings.Contains(out, "\ncompacted content_kinds from 2 parts in ") {
		t.Fatalf("refresh: %q, want content_kinds compacted", out)
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM system.parts WHERE database = ? AND table = 'content_kinds' AND active", ch.Database); n != 1 {
		t.Fatalf("content_kinds in %d parts after the refresh", n)
	}
	if out, _ = beacon(true, "query", "document-views", "-param", "tenant=acme", "-param", "content=doc1", "-format", "csv"); strings.Count(out, "\n") != 4 {
		t.Fatalf("document-views after the refresh: want 3 viewers\n%s", out)
	}
	if out, _ = beacon(true, "refresh", "-refresh.all"); !strings.HasPrefix(out, "refreshed 6 rows (document viewers, stitching claims, content versions and searches) in ") || strings.Contains(out, "compacted") {
		t.Fatalf("refresh -refresh.all: %q, want the same 6 rows and nothing to compact", out)
	}
	if _, errOut = beacon(false, "refresh", "-refresh.since", "-1h"); !strings.Contains(errOut, "must be positive") {
		t.Fatalf("refresh with a negative span: %q", errOut)
	}
	// -list documents every saved query and each of its parameters, in its own section
	out, _ = beacon(true, "query", "-list")
	qs, err := SavedQueries()
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	for _, sec := range strings.Split(out, "\n\n") {
		name, _, _ := strings.Cut(sec, "\n")
		sections[name] = sec
	}
	for _, q := range qs {
		sec, ok := sections[q.Name]
		if !ok {
			t.Fatalf("query -list lacks %s:\n%s", q.Name, out)
		}
		for _, p := range q.Params {
			if !strings.Contains(sec, "-param "+p.Name+"=") || (p.Doc != "" && !strings.Contains(sec, p.Doc)) {
				t.Fatalf("query -list: %s lacks -param %s (%s):\n%s", q.Name, p.Name, p.Doc, sec)
			}
		}
	}
	if len(qs) < 8 {
		t.Fatalf("only %d saved queries", len(qs))
	}
}
