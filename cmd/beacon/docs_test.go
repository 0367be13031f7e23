package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/beaconprm/beacon/beacon/site"
)

// The documents whose `beacon ...` command lines a reader copies. Every command line in
// them is checked against the real subcommands: its flags are parsed with the flags the
// subcommand defines (read from its -help), so a flag that does not exist or lacks its
// value fails; `beacon link` lines are run, and must print a tracked link.
var docsWithCommands = []string{
	"README.md",
	"beacon/WIRE.md",
	"js-snippet/README.md",
	"js-snippet/demo/index.html",
	"schema/README.md",
	"ingest/README.md",
	"bench/README.md",
	"docs/design.md",
	"docs/embedding.md",
	"docs/operations.md",
	"deploy/README.md",
	"console/README.md",
	"signals/README.md",
}

const subcommands = `dev|clickhouse|kafka|collector|ingest|migrate|query|import|refresh|link|console|signals`

var (
	// a command at the start of a line of a code block or <pre>, after an optional prompt
	blockCmdRE = regexp.MustCompile(`^(?:\$ |\s*<pre>)?(?:\./bin/|bin/)?beacon (?:` + subcommands + `)\b`)
	// a command in an inline code span (Markdown backticks or <code>)
	inlineCmdRE = regexp.MustCompile("(?:`|<code>)((?:\\./bin/|bin/)?beacon (?:" + subcommands + ")\\b[^`<]*)(?:`|</code>)")
	// one word of a command line: a <placeholder with spaces>, a quoted string, or a run of non-blanks
	wordRE = regexp.MustCompile(`<[^>]*>|'[^']*'|"[^"]*"|\S+`)
)

type docCommand struct {
	where string // file:line
	args  []string
}

// docCommands extracts the beacon command lines of a document: lines of code blocks that
// start with the command (joined over trailing backslashes, comments dropped) and inline
// code spans.
func docCommands(t *testing.T, root, file string) []docCommand {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []docCommand
	add := func(line int, text string) {
		text = html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(text), "$ "), "<pre>"), "</pre>"))
		if i := strings.Index(text, " # "); i >= 0 {
			text = text[:i]
		}
		words := wordRE.FindAllString(text, -1)
		for i, w := range words {
			if len(w) >= 2 && (w[0] == '\'' || w[0] == '"') && w[len(w)-1] == w[0] {
				words[i] = w[1 : len(w)-1]
			}
		}
		out = append(out, docCommand{where: file + ":" + strconv.Itoa(line+1), args: words[1:]})
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if blockCmdRE.MatchString(l) {
			start, text := i, l
			for strings.HasSuffix(strings.TrimSpace(text), `\`) && i+1 < len(lines) {
				i++
				text = strings.TrimSuffix(strings.TrimSpace(text), `\`) + " " + strings.TrimSpace(lines[i])
			}
			add(start, text)
			continue
		}
		for _, m := range inlineCmdRE.FindAllStringSubmatch(l, -1) {
			add(i, m[1])
		}
	}
	return out
}

var helpFlagRE = regexp.MustCompile(`(?m)^  -([A-Za-z0-9_.]+)(?: ([^\t\n]+?))?(?:\t|$)`)

// realFlags returns a flag set with the flags subcommand sub defines, as its -help prints
// them: booleans stay booleans, every other flag takes a value.
func realFlags(t *testing.T, sub string) *flag.FlagSet {
	t.Helper()
	var out, errb bytes.Buffer
	if err := NewMain(&out, &errb).Run(context.Background(), []string{sub, "-help"}); err != nil && !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("beacon %s -help: %v", sub, err)
	}
	fs := flag.NewFlagSet("beacon "+sub, flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	for _, m := range helpFlagRE.FindAllStringSubmatch(errb.String()+out.String(), -1) {
		if m[2] == "" {
			fs.Bool(m[1], false, "")
		} else {
			fs.String(m[1], "", "")
		}
	}
	if n := len(helpFlagRE.FindAllString(errb.String()+out.String(), -1)); n == 0 {
		t.Fatalf("beacon %s -help lists no flags:\n%s", sub, errb.String())
	}
	return fs
}

// parseLikeTheSubcommand parses args as the subcommand does: query and import take flags
// between their names, migrate takes its action after the flags, the rest take no
// positional arguments.
func parseLikeTheSubcommand(fs *flag.FlagSet, sub string, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 || (sub != "query" && sub != "import") {
			pos = append(pos, fs.Args()...)
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	switch sub {
	case "query", "import":
	case "migrate":
		if len(pos) != 1 {
			return errors.New("migrate takes one action (up, status, render) after its flags, got " + strings.Join(pos, " "))
		}
	default:
		if len(pos) > 0 {
			return errors.New("unexpected arguments " + strings.Join(pos, " "))
		}
	}
	return nil
}

func TestDocCommandLines(t *testing.T) {
	t.Setenv("BEACON_DEMO_SECRET", "")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	n, links := 0, 0
	for _, file := range docsWithCommands {
		for _, c := range docCommands(t, root, file) {
			n++
			sub := c.args[0]
			fs := realFlags(t, sub)
			if err := parseLikeTheSubcommand(fs, sub, c.args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%s: beacon %s: %v", c.where, strings.Join(c.args, " "), err)
				continue
			}
			if sub != "link" || len(c.args) == 1 || fs.Lookup("help") == nil && (c.args[1] == "-help" || c.args[1] == "-h") {
				continue // a bare `beacon link` names the command in prose; -help only prints
			}
			// Run it, in a directory laid out like the dev stack's (var/sites.json).
			links++
			t.Chdir(t.TempDir())
			if err := site.WriteDemoConfig(filepath.Join("var", "sites.json")); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			base := "http://127.0.0.1:8080"
			if v := fs.Lookup("link.base").Value.String(); v != "" {
				base = v
			}
			if err := NewMain(&out, &errb).Run(context.Background(), c.args); err != nil || !strings.HasPrefix(out.String(), strings.TrimRight(base, "/")+"/l/") {
				t.Errorf("%s: beacon %s: %v, printed %q %s", c.where, strings.Join(c.args, " "), err, out.String(), errb.String())
			}
		}
	}
	if n < 20 || links < 3 {
		t.Fatalf("found %d command lines, %d of them beacon link: the extraction misses some", n, links)
	}
	t.Logf("checked %d command lines, ran %d beacon link lines", n, links)
}
