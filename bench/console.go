package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/beaconprm/beacon/bench/internal/load"
	"github.com/beaconprm/beacon/bench/internal/report"
	"github.com/beaconprm/beacon/bench/internal/stack"
	"github.com/beaconprm/beacon/internal/ready"
)

// consoleCalls are the console API calls the scenario times: every endpoint the pages
// use, on the synthetic data's heaviest ids (doc-0, vid-0, the busiest person u0 and its
// partner p0, course-0), all time and, where a page has a period, the last 30 days; the tools'
// versions, which the page loads when opened, too. Then the entity pages of typical ids
// (doc-50, vid-50, partner p100, person u2500), which beacon keep's per-round budget may not
// reach at 100M: their answers are then computed for the request (each row says which).
var consoleCalls = []string{
	"activity", "activity?from={from30}&to={today}",
	"directory",
	"contents", "contents?from={from30}&to={today}", "contents?kind=document", "contents?kind=video",
	"documents/doc-0", "documents/doc-0?from={from30}&to={today}",
	"videos/vid-0", "videos/vid-0/viewers", "videos/vid-0/seconds?person=u0@partner.example",
	"reach/doc-0", "reach/vid-0",
	"training", "training/scores?course=course-0", "training/scores?partner=p0", "campaigns", "tools", "searches", "versions?kind=tool",
	"versions?content=doc-0",
	"partners?level=partner", "partners?level=partner&stopped=0", "partners/p0", "partners/p0/timeline", "partners/p0/deals",
	"people/u0@partner.example",
	"documents/doc-50", "videos/vid-50", "videos/vid-50/viewers", "reach/doc-50", "reach/vid-50",
	"partners/p100", "partners/p100/timeline", "partners/p100/deals", "people/u2500@partner.example",
}

// consolePages are the pages the browser times (paths under /t/bench/).
var consolePages = []string{
	"", "partners", "partners/p0", "people/u0@partner.example", "documents", "documents/doc-0",
	"videos", "videos/vid-0", "training", "campaigns", "tools",
	"partners/p100", "people/u2500@partner.example", // typical ones (consoleCalls)
}

// runConsole is the console scenario (issue 14): o.Rows synthetic raw events loaded as the
// queries scenario loads them, then `beacon console` on them: p50/p95 of every API call the
// pages make (target p95 < 150 ms), and each page's time to visually complete in headless
// Chromium with its assets cached (target < 1 s), measured by
// console/web/test/pages-speed.mjs (playwright-core, Debian's chromium).
func runConsole(ctx context.Context, o *Options, r *report.Report) error {
	s, err := newStack(o)
	if err != nil {
		return err
	}
	defer s.Close()
	sy, err := openSynthetic(ctx, s, o, true)
	if err != nil {
		return err
	}
	defer sy.Close()
	ch, db := sy.ch, sy.db
	if !sy.reused {
		// what `beacon refresh` does after a bulk load, then merges settled, as the queries
		// scenario's first measurement
		t0 := time.Now()
		if err := sy.generate(ctx, o.Rows, func(s string) { fmt.Fprint(o.Log, s) }); err != nil {
			return err
		}
		if _, _, err := sy.refresh(ctx, time.Since(t0)); err != nil {
			return err
		}
		if err := sy.keep(o); err != nil {
			return err
		}
	}
	genTime := sy.genTime
	total, err := ch.QueryInt(ctx, "SELECT count() FROM "+db+".events")
	if err != nil {
		return err
	}

	// beacon keep beside the console, as in production (schema/README.md, "Kept answers"):
	// the console serves the answers it keeps; measured once its first round (the per-entity
	// answers included) has ended, so the timing does not share the server with it
	keepPort, err := ready.FreePort()
	if err != nil {
		return err
	}
	keepMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", keepPort)
	kp, err := s.Start("keep", s.Bin, "keep", "-clickhouse.addr="+ch.NativeAddr, "-clickhouse.database="+db, "-keep.tenants=bench",
		fmt.Sprintf("-keep.metricsAddr=127.0.0.1:%d", keepPort))
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Log, "waiting for beacon keep's first round")
	if err := stack.WaitFor(kp, 10*time.Minute, func() error {
		resp, err := http.Get(keepMetrics)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), `keep_rounds_total{result="ok"} 1`) {
			return fmt.Errorf("no full round yet")
		}
		return nil
	}); err != nil {
		return fmt.Errorf("beacon keep: %w", err)
	}

	// the console, with one user of the bench tenant
	const user, password = "bench", "bench-console-password"
	hash := exec.CommandContext(ctx, s.Bin, "console", "-hash")
	hash.Stdin = strings.NewReader(password)
	h, err := hash.Output()
	if err != nil {
		return fmt.Errorf("beacon console -hash: %w", err)
	}
	users := filepath.Join(s.Work, "users.json")
	ub, _ := json.Marshal(map[string]any{"users": []map[string]any{{"name": user, "passwordHash": strings.TrimSpace(string(h)), "tenants": []string{"bench"}}}})
	if err := os.WriteFile(users, ub, 0o600); err != nil {
		return err
	}
	addr, err := stack.FreeAddr()
	if err != nil {
		return err
	}
	// a slow answer is measured, not cut at the default 10 s (a timeout would end the run)
	p, err := s.Start("console", s.Bin, "console", "-console.listenAddr="+addr, "-console.users="+users,
		"-clickhouse.addr="+ch.NativeAddr, "-clickhouse.database="+db, "-console.queryTimeout=2m")
	if err != nil {
		return err
	}
	base := "http://" + addr
	if err := stack.WaitFor(p, time.Minute, ready.HTTP(base+"/api/health")); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	lb, _ := json.Marshal(map[string]string{"name": user, "password": password})
	resp, err := hc.Post(base+"/api/login", "application/json", bytes.NewReader(lb))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("console sign-in: %s", resp.Status)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	from30 := time.Now().UTC().AddDate(0, 0, -29).Format(time.DateOnly)
	// get returns the answer's rows and whether it was served kept (beacon keep's)
	get := func(path string) (int, bool, error) {
		resp, err := hc.Get(base + "/api/t/bench/" + path)
		if err != nil {
			return 0, false, err
		}
		defer resp.Body.Close()
		var a struct {
			Rows   []json.RawMessage `json:"rows"`
			KeptAt string            `json:"kept_at"`
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return 0, false, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			return 0, false, fmt.Errorf("GET %s: %w", path, err)
		}
		return len(a.Rows), a.KeptAt != "", nil
	}
	worst := time.Duration(0)
	for _, c := range consoleCalls {
		path := strings.NewReplacer("{today}", today, "{from30}", from30).Replace(c)
		if _, _, err := get(path); err != nil { // warm-up, as a console in use is
			return err
		}
		var lat []time.Duration
		rows, kept := 0, 0
		budget := time.Now().Add(time.Minute)
		for i := 0; i < o.QueryN && (i < 5 || time.Now().Before(budget)); i++ {
			q0 := time.Now()
			n, k, err := get(path)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(q0))
			rows = n
			if k {
				kept++
			}
		}
		sortDurations(lat)
		p50, p95 := load.Quantile(lat, 0.5), load.Quantile(lat, 0.95)
		worst = max(worst, p95)
		label := "GET /api/t/bench/" + strings.NewReplacer("{today}", "<today>", "{from30}", "<today-29>").Replace(c)
		served := "computed"
		if kept == len(lat) {
			served = "kept"
		} else if kept > 0 {
			served = fmt.Sprintf("kept %d, computed %d", kept, len(lat)-kept)
		}
		r.Rows = append(r.Rows, report.Row{Metric: fmt.Sprintf("%s (%d rows, %d runs, %s)", label, rows, len(lat), served), Value: "p50 " + report.Ms(p50) + ", p95 " + report.Ms(p95), Target: "p95 < 150 ms", Verdict: report.Verdict(p95 < 150*time.Millisecond)})
		r.Raw = append(r.Raw, fmt.Sprintf("%s: %v", label, lat))
		fmt.Fprintf(o.Log, "%-70s p50 %s p95 %s %s\n", label, report.Ms(p50), report.Ms(p95), served)
	}

	// the pages, in headless Chromium
	pages, err := timePages(ctx, s, base, user, password, o)
	if err != nil {
		return err
	}
	for _, pg := range pages {
		sortDurations(pg.lat)
		p50, p95 := load.Quantile(pg.lat, 0.5), load.Quantile(pg.lat, 0.95)
		label := "page /t/bench/" + pg.path
		r.Rows = append(r.Rows, report.Row{Metric: fmt.Sprintf("%s visually complete (%d loads)", label, len(pg.lat)), Value: "p50 " + report.Ms(p50) + ", p95 " + report.Ms(p95), Target: "< 1 s", Verdict: report.Verdict(p95 < time.Second)})
		r.Raw = append(r.Raw, fmt.Sprintf("%s: %v", label, pg.lat))
		fmt.Fprintf(o.Log, "%-70s p50 %s p95 %s\n", label, report.Ms(p50), report.Ms(p95))
	}
	scale := ""
	if o.Rows < 100_000_000 {
		scale = fmt.Sprintf(" **Run at %s rows, not the target's 100M**; `make -C bench console` (ROWS=100000000) runs the full size.", report.Num(float64(o.Rows)))
	}
	loaded := fmt.Sprintf("%s raw events generated as the queries scenario generates them (bench/sql/synthetic_events.sql, "+
		"dimension tables from bench/sql/dimensions.sql) in %s, then what `beacon refresh` does and merges settled", report.Num(float64(o.Rows)), genTime.Round(time.Second))
	if sy.reused {
		loaded = fmt.Sprintf("the load an earlier run with the same -data left there, not loaded again (%s; %s raw events now: "+
			"a queries run adds 15 minutes of new events after its load)", loaded, report.Num(float64(total)))
	}
	r.Notes = append(r.Notes, fmt.Sprintf("Method: %s. Then `beacon keep -keep.tenants=bench` (every 5 minutes, as in production; "+
		"measured from the end of its first round, per-entity answers included: the console serves the forms it keeps, with their time) and `beacon console` "+
		"(read-only connection, its query timeout raised to 2 minutes so a slow answer is measured) with one user of the tenant; each API call the pages make, over HTTP with the session "+
		"cookie, once to warm up and %d times timed (fewer, at least 5, when the runs exceed a minute), on the heaviest ids (doc-0, vid-0, "+
		"the busiest person u0@partner.example and its partner p0) and, for the entity pages, typical ones (doc-50, vid-50, p100, u2500@partner.example); worst p95 %s; each row says whether its answers were served kept (the answer's `kept_at`) or computed. Each page in headless Chromium (Debian's chromium "+
		"driven by playwright-core, console/web/test/pages-speed.mjs): loaded once so its assets are cached, then timed from the "+
		"navigation's start to visually complete (no part still loading, every chart drawn), %d loads.%s",
		loaded, o.QueryN, report.Ms(worst), consolePageLoads, scale))
	return nil
}

// consolePageLoads is how many timed loads each page gets.
const consolePageLoads = 10

type pageTiming struct {
	path string
	lat  []time.Duration
}

// timePages runs console/web/test/pages-speed.mjs (node) against the console at base and
// reads one JSON line per page: {"path": ..., "ms": [...]}.
func timePages(ctx context.Context, s *stack.Stack, base, user, password string, o *Options) ([]pageTiming, error) {
	script := filepath.Join(s.Root, "console", "web", "test", "pages-speed.mjs")
	if _, err := os.Stat(filepath.Join(s.Root, "console", "web", "node_modules", "playwright-core")); err != nil {
		return nil, fmt.Errorf("the page timing needs playwright-core: run `make -C console/web deps` (%w)", err)
	}
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = filepath.Join(s.Root, "console", "web")
	cmd.Env = append(os.Environ(), "CONSOLE_BASE="+base, "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password,
		"CONSOLE_PAGES="+strings.Join(prefixed("/t/bench/", consolePages), ","), "CONSOLE_LOADS="+strconv.Itoa(consolePageLoads))
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, o.Log)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node pages-speed.mjs: %w: %s", err, stderr.String())
	}
	var res []pageTiming
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var line struct {
			Path string    `json:"path"`
			MS   []float64 `json:"ms"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("pages-speed.mjs printed %q: %w", sc.Text(), err)
		}
		pt := pageTiming{path: strings.TrimPrefix(line.Path, "/t/bench/")}
		for _, ms := range line.MS {
			pt.lat = append(pt.lat, time.Duration(ms*float64(time.Millisecond)))
		}
		res = append(res, pt)
	}
	if len(res) != len(consolePages) {
		return nil, fmt.Errorf("pages-speed.mjs timed %d pages, want %d: %s", len(res), len(consolePages), stderr.String())
	}
	return res, nil
}

func prefixed(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}
