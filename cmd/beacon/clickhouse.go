package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/beaconprm/beacon/internal/chlocal"
)

// runClickHouse serves the local ClickHouse engine until signalled: by default in a child
// process that it restarts when the engine aborts (superviseEngine); with
// -clickhouse.restart=false in this process, as `beacon dev` runs it (dev restarts it
// itself).
func runClickHouse(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("clickhouse")
	dataDir := fs.String("clickhouse.dataDir", "var/clickhouse/data", "data directory; kept across restarts")
	tcpPort := fs.Int("clickhouse.tcpPort", 9000, "native protocol port on 127.0.0.1")
	httpPort := fs.Int("clickhouse.httpPort", 8123, "HTTP interface port on 127.0.0.1")
	cacheDir := fs.String("cacheDir", chlocal.CacheDir(), "where the engine library is cached (fetched with npm when absent); $BEACON_CHDB_LIB overrides")
	config := fs.String("clickhouse.config", "", "a ClickHouse config file for what these flags do not set, e.g. <users_config> naming a users.xml with BI users (beacon biuser); empty for none")
	restart := fs.Bool("clickhouse.restart", true, "serve from a child process and start it again on its data when the engine aborts (bounded backoff, each restart logged with the engine's last log lines); false serves in this process")
	fetchOnly := fs.Bool("fetchOnly", false, "fetch the engine library into -cacheDir if absent, print its path and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lib, err := chlocal.EnsureLibrary(ctx, *cacheDir, m.Stderr)
	if err != nil {
		return err
	}
	if *fetchOnly {
		fmt.Fprintln(m.Stdout, lib)
		return nil
	}
	if *restart {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot find the beacon executable to run the engine in: %w", err)
		}
		child := clickhouseArgs(*dataDir, *tcpPort, *httpPort, *cacheDir)
		if *config != "" {
			child = append(child, "-clickhouse.config="+*config)
		}
		return superviseEngine(ctx, m.Stderr, exe, child, *httpPort, chlocal.ServerLogOf(*dataDir))
	}
	fmt.Fprintf(m.Stderr, "clickhouse: serving %s on 127.0.0.1 native %d, http %d\n", *dataDir, *tcpPort, *httpPort)
	return chlocal.Serve(ctx, chlocal.ServeConfig{Library: lib, DataDir: *dataDir, TCPPort: *tcpPort, HTTPPort: *httpPort, ConfigFile: *config})
}

// clickhouseArgs is the argv tail that makes `beacon` serve ClickHouse in its own process,
// not restarted (its starter restarts it).
func clickhouseArgs(dataDir string, tcpPort, httpPort int, cacheDir string) []string {
	return []string{"clickhouse",
		"-clickhouse.dataDir=" + dataDir,
		"-clickhouse.tcpPort=" + strconv.Itoa(tcpPort),
		"-clickhouse.httpPort=" + strconv.Itoa(httpPort),
		"-cacheDir=" + cacheDir,
		"-clickhouse.restart=false",
	}
}
