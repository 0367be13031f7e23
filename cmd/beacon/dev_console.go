package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/beaconprm/beacon/console"
)

// devConsoleTenant is the tenant of the demo site (-collector.demoSites).
const devConsoleTenant = "demo"

// startDevConsole starts the console as a part of the dev stack, for a user "dev" of the
// demo tenant whose password is made anew at every start (never stored in the repo), and
// returns the banner line that tells it.
func (c *devConfig) startDevConsole(start func(name string, stream bool, ready func(context.Context) error, args ...string) error, chNative string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	password := base64.RawURLEncoding.EncodeToString(b)
	hash, err := console.HashPassword(password)
	if err != nil {
		return "", err
	}
	users, _ := json.MarshalIndent(map[string]any{"users": []console.User{{Name: "dev", PasswordHash: hash, Tenants: []string{devConsoleTenant}}}}, "", "  ")
	path := filepath.Join(c.DataDir, "console-users.json")
	if err := os.WriteFile(path, append(users, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("cannot write the dev console's users file: %w", err)
	}
	if err := start("console", true, tcpReady(c.ConsoleAddr), "console",
		"-console.listenAddr="+c.ConsoleAddr, "-console.users="+path, "-clickhouse.addr="+chNative); err != nil {
		return "", err
	}
	return fmt.Sprintf("  console     http://%s   sign in as dev / %s (tenant %s; a new password each start)\n", c.ConsoleAddr, password, devConsoleTenant), nil
}
