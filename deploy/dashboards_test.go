package deploy

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/internal/testenv"
	"github.com/beaconprm/beacon/schema"
)

// panel is what the tests need of a Grafana panel.
type panel struct {
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource struct {
		Type string `json:"type"`
	} `json:"datasource"`
	Targets []struct {
		Expr   string `json:"expr"`
		RawSQL string `json:"rawSql"`
	} `json:"targets"`
}

func loadPanels(t *testing.T, file string) []panel {
	t.Helper()
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readFile(t, file)), &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d.Panels
}

// promPanels is the PromQL of every Prometheus panel of both dashboards.
func promPanels(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for _, f := range []string{"grafana/dashboards/pipeline.json", "grafana/dashboards/engagement.json"} {
		for _, p := range loadPanels(t, f) {
			if p.Datasource.Type != "prometheus" {
				continue
			}
			for _, tg := range p.Targets {
				out[p.Title] = append(out[p.Title], tg.Expr)
			}
		}
	}
	return out
}

// mustHaveData are the Prometheus panels that show data on any running stack with traffic.
var mustHaveData = []string{
	"Events accepted /s", "Rows inserted /s", "Oldest waiting event", "Requests /s by route and code",
	"Partner token outcomes /s", "Spool fullness", "Spool bytes", "Delivered to Kafka /s", "Waiting per partition",
	"Insert latency p50 / p99", "Partitions owned", "Connections refused /s", "Repeats dropped /s", "Requests per spool write", "Resident memory", "CPU", "File descriptors in use", "Up",
}

// checkPromPanels runs every Prometheus panel's queries against a Prometheus scraping a real
// stack: each must be valid PromQL, and the panels of mustHaveData must return series.
func checkPromPanels(t *testing.T, prom string) {
	t.Helper()
	panels := promPanels(t)
	if len(panels) < len(mustHaveData) {
		t.Fatalf("only %d Prometheus panels in the dashboards", len(panels))
	}
	for _, title := range mustHaveData {
		if _, ok := panels[title]; !ok {
			t.Errorf("the pipeline dashboard has no panel %q", title)
		}
	}
	for title, exprs := range panels {
		series := 0
		for _, e := range exprs {
			var r struct {
				Status string `json:"status"`
				Error  string `json:"error"`
				Data   struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			getJSONAny(t, prom+"/api/v1/query?query="+url.QueryEscape(e), &r)
			if r.Status != "success" {
				t.Errorf("panel %q: %s: %s", title, e, r.Error)
			}
			series += len(r.Data.Result)
		}
		if series == 0 && slices.Contains(mustHaveData, title) {
			t.Errorf("panel %q shows nothing on a running stack: %v", title, exprs)
		}
	}
}

// TestClickHousePanels runs every ClickHouse panel's SQL, and the dashboard variables'
// queries, on the real local ClickHouse with the schema applied, with Grafana's macros and
// variables replaced as the ClickHouse data source plugin replaces them.
func TestClickHousePanels(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	conn := ch.Conn(t)
	ctx := context.Background()
	if _, err := schema.Migrate(ctx, conn, schema.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	ch.Exec(t, "INSERT INTO `"+ch.Database+"`.contents (tenant, content_id, content_type, title) VALUES ('acme', 'doc-1', 'document', 'Pricing'), ('acme', 'vid-1', 'video', 'Intro')")
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	queries := map[string]string{}
	for _, f := range []string{"grafana/dashboards/pipeline.json", "grafana/dashboards/engagement.json"} {
		if err := json.Unmarshal([]byte(readFile(t, f)), &d); err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				if p.Datasource.Type == "grafana-clickhouse-datasource" {
					queries[f+": panel "+p.Title] = tg.RawSQL
				}
			}
		}
		for _, v := range d.Templating.List {
			queries[f+": variable "+v.Name] = v.Query
		}
		d.Templating.List = nil
	}
	if len(queries) < 8 {
		t.Fatalf("only %d ClickHouse queries in the dashboards", len(queries))
	}
	expand := strings.NewReplacer(
		"${tenant}", "acme", "${document}", "doc-1", "${video}", "vid-1",
		"$__fromTime", "toDateTime(0)", "$__toTime", "toDateTime(4102444800)",
		"beacon.", "`"+ch.Database+"`.", "database = 'beacon'", "database = '"+ch.Database+"'")
	for name, q := range queries {
		if strings.Contains(expand.Replace(q), "$") {
			t.Errorf("%s: a macro or variable the test does not know: %s", name, q)
			continue
		}
		rows, err := conn.Query(ctx, expand.Replace(q))
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, q)
			continue
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		rows.Close()
	}
	if _, err := os.Stat("grafana/provisioning/datasources/beacon.yml"); err != nil {
		t.Error(err)
	}
}
