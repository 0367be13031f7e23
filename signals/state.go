package signals

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stateFile is what survives a restart: the deliveries that succeeded (by idempotency key
// and receiver) and the subjects signalled silent (armed for their rule's "back" rule).
// It is rewritten whole after every success, through a temporary file, fsync and rename,
// so a kill at any moment leaves either the old or the new state, never a torn one.
type stateFile struct {
	Version int `json:"version"`
	// Sent: "<key> <receiver>" -> when it succeeded.
	Sent map[string]time.Time `json:"sent"`
	// Silent: "<silent rule> <subject>" -> the silent episode (its last touch) signalled.
	Silent map[string]string `json:"silent"`
}

type state struct {
	path string
	keep time.Duration
	mu   sync.Mutex
	f    stateFile
}

func openState(path string, keep time.Duration) (*state, error) {
	s := &state{path: path, keep: keep, f: stateFile{Version: 1, Sent: map[string]time.Time{}, Silent: map[string]string{}}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, s.saveLocked(time.Now())
	case err != nil:
		return nil, fmt.Errorf("cannot read the signals state: %w; check -signals.stateFile", err)
	}
	if err := json.Unmarshal(b, &s.f); err != nil {
		return nil, fmt.Errorf("cannot parse the signals state %s: %w; move it away to start afresh (signals already sent would be sent again)", path, err)
	}
	if s.f.Version != 1 {
		return nil, fmt.Errorf("signals state %s has version %d; want 1", path, s.f.Version)
	}
	if s.f.Sent == nil {
		s.f.Sent = map[string]time.Time{}
	}
	if s.f.Silent == nil {
		s.f.Silent = map[string]string{}
	}
	return s, nil
}

func sentKey(key, receiver string) string { return key + " " + receiver }

func (s *state) sent(key, receiver string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.f.Sent[sentKey(key, receiver)]
	return ok
}

func (s *state) silentEpisode(rule, subject string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.f.Silent[rule+" "+subject]
	return v, ok
}

// succeeded records a delivered signal, applies change (under the lock) and saves.
func (s *state) succeeded(key, receiver string, now time.Time, change func(f *stateFile)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.Sent[sentKey(key, receiver)] = now.UTC()
	if change != nil {
		change(&s.f)
	}
	return s.saveLocked(now)
}

func (s *state) saveLocked(now time.Time) error {
	for k, at := range s.f.Sent {
		if now.Sub(at) > s.keep {
			delete(s.f.Sent, k)
		}
	}
	b, err := json.MarshalIndent(&s.f, "", " ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := writeSync(tmp, b); err != nil {
		return fmt.Errorf("cannot write the signals state: %w; check -signals.stateFile", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("cannot replace the signals state: %w", err)
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func writeSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
