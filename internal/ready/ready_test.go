package ready

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) == "SELECT 1" && r.Method == http.MethodPost {
			io.WriteString(w, "1\n")
			return
		}
		http.Error(w, "Code: 62. DB::Exception: Syntax error", http.StatusBadRequest)
	}))
	defer srv.Close()
	b, err := Post(context.Background(), srv.URL, strings.NewReader("SELECT 1"))
	if err != nil || string(b) != "1\n" {
		t.Fatalf("Post = %q, %v; want the answer", b, err)
	}
	b, err = Post(context.Background(), srv.URL, strings.NewReader("SELEC 1"))
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request: Code: 62. DB::Exception: Syntax error") || b != nil {
		t.Fatalf("Post of a bad query = %q, %v; want an error with the status and the server's message", b, err)
	}
}

func TestFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if Free(addr)() == nil {
		t.Fatalf("%s is held, and Free says it is free", addr)
	}
	ln.Close()
	if err := Free(addr)(); err != nil {
		t.Fatalf("%s was let go, and Free says %v", addr, err)
	}
}
