package schema

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// BIUser is a ClickHouse user for a BI tool that reads one tenant's rows and nothing else:
// read-only (readonly = 2: the tool may set query settings, never write or change the
// schema), limits it cannot raise (settings constraints), and a row filter on every table
// of the database, so the tables, the q_ views and the bi_ views all answer for its tenant
// only. Render it with XML (a users.d file) or SQL (SQL-driven access control).
type BIUser struct {
	Name     string // user name: a letter, then letters, digits and _ (at most 64)
	Tenant   string // the tenant it reads: 1..64 of [A-Za-z0-9_-], as in the site config
	Database string // the beacon database
	// PasswordSHA256 is the hex SHA-256 of the user's password (the password itself is
	// never written into a file or a statement).
	PasswordSHA256 string
	// MaxExecutionTime (seconds), MaxResultRows and MaxMemoryUsage (bytes) are the user's
	// limits, each also its ceiling: a query asking for more is refused, and so is one
	// asking for 0 (which ClickHouse reads as no limit).
	MaxExecutionTime, MaxResultRows, MaxMemoryUsage int64
	// Tables are the database's tables with a tenant column (filtered to the tenant);
	// Hidden the others holding data (filtered to no row). See TenantTables.
	Tables, Hidden []string
}

var (
	biUserName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	biTenant   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	biTable    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	biSHA256   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate says what is wrong with u, naming the flag of `beacon biuser` that sets it.
func (u BIUser) Validate() error {
	switch {
	case !biTenant.MatchString(u.Tenant):
		return fmt.Errorf("-biuser.tenant %q: want 1..64 of [A-Za-z0-9_-], as in the site config", u.Tenant)
	case !biUserName.MatchString(u.Name):
		return fmt.Errorf("-biuser.name %q: want a letter, then letters, digits and _ (at most 64)", u.Name)
	case !biTable.MatchString(u.Database):
		return fmt.Errorf("-clickhouse.database %q: not a plain identifier", u.Database)
	case !biSHA256.MatchString(u.PasswordSHA256):
		return errors.New("the password's SHA-256 must be 64 lowercase hex digits")
	case u.MaxExecutionTime <= 0 || u.MaxResultRows <= 0 || u.MaxMemoryUsage <= 0:
		return errors.New("-biuser.maxExecutionTime, -biuser.maxResultRows and -biuser.maxMemoryUsage must be positive")
	case len(u.Tables) == 0:
		return fmt.Errorf("database %s has no table with a tenant column: run beacon migrate up first", u.Database)
	}
	for _, t := range slices.Concat(u.Tables, u.Hidden) {
		if !biTable.MatchString(t) {
			return fmt.Errorf("table %q: not a plain identifier, cannot be named in a users file", t)
		}
	}
	return nil
}

// migrationsTable is the one table a BI user may read whole: migration names and checksums.
const migrationsTable = "schema_migrations"

// TenantTables lists db's tables (views excluded: they read tables, whose filters apply)
// with a tenant column, and those without one except schema_migrations, sorted.
func TenantTables(ctx context.Context, conn driver.Conn, db string) (tenant, other []string, err error) {
	rows, err := conn.Query(ctx, `
		SELECT t.name, countIf(c.name = 'tenant') > 0
		FROM system.tables AS t
		LEFT JOIN (SELECT table, name FROM system.columns WHERE database = {db:String}) AS c ON c.table = t.name
		WHERE t.database = {db:String} AND t.engine NOT IN ('View', 'MaterializedView', 'LiveView', 'WindowView')
		GROUP BY t.name
		ORDER BY t.name`, driver.NamedValue{Name: "db", Value: db})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list the tables of %s: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var has bool
		if err := rows.Scan(&name, &has); err != nil {
			return nil, nil, err
		}
		switch {
		case has:
			tenant = append(tenant, name)
		case name != migrationsTable:
			other = append(other, name)
		}
	}
	return tenant, other, rows.Err()
}

// XML renders u as a users.d file for servers whose users live in users.xml: a profile
// with the limits and their constraints, and the user with its row filters.
func (u BIUser) XML() (string, error) {
	if err := u.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	p := u.Name + "_profile"
	fmt.Fprintf(&b, "<!-- beacon BI user %s: reads tenant %s of database %s only (beacon biuser). -->\n<clickhouse>\n", u.Name, u.Tenant, u.Database)
	fmt.Fprintf(&b, "  <profiles>\n    <%s>\n      <readonly>2</readonly>\n", p)
	limits := [][2]string{{"max_execution_time", fmt.Sprint(u.MaxExecutionTime)}, {"max_result_rows", fmt.Sprint(u.MaxResultRows)},
		{"max_memory_usage", fmt.Sprint(u.MaxMemoryUsage)}}
	for _, l := range limits {
		fmt.Fprintf(&b, "      <%s>%s</%[1]s>\n", l[0], l[1])
	}
	b.WriteString("      <constraints>\n        <readonly><const/></readonly>\n")
	for _, l := range limits {
		fmt.Fprintf(&b, "        <%s><min>1</min><max>%s</max></%[1]s>\n", l[0], l[1]) // 0 would mean no limit
	}
	b.WriteString("      </constraints>\n    </" + p + ">\n  </profiles>\n")
	fmt.Fprintf(&b, "  <users>\n    <%s>\n      <password_sha256_hex>%s</password_sha256_hex>\n", u.Name, u.PasswordSHA256)
	fmt.Fprintf(&b, "      <profile>%s</profile>\n      <quota>default</quota>\n      <networks><ip>::/0</ip></networks>\n", p)
	fmt.Fprintf(&b, "      <allow_databases><database>%s</database></allow_databases>\n", u.Database)
	fmt.Fprintf(&b, "      <databases>\n        <%s>\n", u.Database)
	for _, t := range u.Tables {
		fmt.Fprintf(&b, "          <%s><filter>tenant = '%s'</filter></%[1]s>\n", t, u.Tenant)
	}
	for _, t := range u.Hidden {
		fmt.Fprintf(&b, "          <%s><filter>0</filter></%[1]s>\n", t)
	}
	fmt.Fprintf(&b, "        </%s>\n      </databases>\n    </%s>\n  </users>\n</clickhouse>\n", u.Database, u.Name)
	return b.String(), nil
}

// SQL renders u for SQL-driven access control. The user's policies are permissive (rows
// of its tenant; none of a hidden table). Every BI user gets the role beacon_bi_tenant, and each
// table one more policy, beacon_all, that lets every other user (the ingest, the console,
// admins) keep reading every row: once a table has a row policy, a user no policy names
// reads none of its rows.
func (u BIUser) SQL() (string, error) {
	if err := u.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- beacon BI user %s: reads tenant %s of database %s only (beacon biuser).\n", u.Name, u.Tenant, u.Database)
	b.WriteString("CREATE ROLE IF NOT EXISTS beacon_bi_tenant;\n")
	fmt.Fprintf(&b, "CREATE SETTINGS PROFILE OR REPLACE %s_profile SETTINGS readonly = 2 CONST, max_execution_time = %d MIN 1 MAX %[2]d, "+
		"max_result_rows = %d MIN 1 MAX %[3]d, max_memory_usage = %d MIN 1 MAX %[4]d;\n", u.Name, u.MaxExecutionTime, u.MaxResultRows, u.MaxMemoryUsage)
	fmt.Fprintf(&b, "CREATE USER OR REPLACE %s IDENTIFIED WITH sha256_hash BY '%s' SETTINGS PROFILE %[1]s_profile;\n", u.Name, u.PasswordSHA256)
	fmt.Fprintf(&b, "GRANT beacon_bi_tenant TO %s;\n", u.Name) // a granted role is a default role
	fmt.Fprintf(&b, "GRANT SELECT ON %s.* TO %s;\n", u.Database, u.Name)
	for _, t := range u.Tables {
		fmt.Fprintf(&b, "CREATE ROW POLICY OR REPLACE %s ON %s.%s FOR SELECT USING tenant = '%s' TO %[1]s;\n", u.Name, u.Database, t, u.Tenant)
	}
	for _, t := range u.Hidden {
		fmt.Fprintf(&b, "CREATE ROW POLICY OR REPLACE %s ON %s.%s FOR SELECT USING 0 TO %[1]s;\n", u.Name, u.Database, t)
	}
	for _, t := range slices.Concat(u.Tables, u.Hidden) {
		fmt.Fprintf(&b, "CREATE ROW POLICY IF NOT EXISTS beacon_all ON %s.%s FOR SELECT USING 1 TO ALL EXCEPT beacon_bi_tenant;\n", u.Database, t)
	}
	return b.String(), nil
}
