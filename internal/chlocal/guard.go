package chlocal

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// The embedded engine aborts the whole process (an uncaught "Socket is not connected",
// signal 6) when a connection is reset before its handler has read the peer's address: a
// client killed mid-connect, a port scanner, a load balancer's health probe. The server
// binary handles this; the library build we run does not, and we cannot patch it.
//
// It also aborts when a native-protocol client ends its connection in the middle of its
// Hello packet (an uncaught "Cannot read all data"), however it ends it.
//
// So the engine listens only on internal loopback ports, and a guard owned by this process
// listens on the public ones and relays each connection. Whatever the client does, the
// engine sees an orderly connection that ends with a FIN: the guard never resets it. On the
// native port the guard first reads the client's whole Hello and connects to the engine only
// then, so the engine never sees a partial one. After that, the relay is splice(2) between
// the two sockets (io.Copy between TCP connections): little CPU, no copying in user space.

// drainTimeout bounds how long the guard reads what the engine still sends after the
// client went away, before it closes the engine's side anyway.
const drainTimeout = 30 * time.Second

// guard relays connections from a public listener to the engine's internal address.
type guard struct {
	ln       net.Listener
	upstream string
	native   bool // read a whole native-protocol Hello before connecting to the engine
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
}

func newGuard(ln net.Listener, upstream string, native bool) *guard {
	g := &guard{ln: ln, upstream: upstream, native: native, conns: map[net.Conn]struct{}{}}
	g.wg.Add(1)
	go g.accept()
	return g
}

func (g *guard) accept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // listener closed
		}
		if !g.track(c) {
			c.Close()
			return
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer g.untrack(c)
			g.relay(c.(*net.TCPConn))
		}()
	}
}

func (g *guard) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *guard) untrack(c net.Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// relay joins one client to a new engine connection until both directions end.
func (g *guard) relay(client *net.TCPConn) {
	defer client.Close()
	var first []byte // what the client sent before the engine is connected
	if g.native {
		_ = client.SetReadDeadline(time.Now().Add(helloTimeout))
		hello, err := readHello(bufio.NewReaderSize(client, 512))
		if err != nil {
			return // not a whole Hello: the engine never hears of this client
		}
		_ = client.SetReadDeadline(time.Time{})
		first = hello
	}
	up, err := net.DialTimeout("tcp", g.upstream, 5*time.Second)
	if err != nil {
		return // engine not up yet (or stopping): the client sees its connection closed
	}
	engine := up.(*net.TCPConn)
	if !g.track(engine) {
		engine.Close()
		return
	}
	defer g.untrack(engine)
	if _, err := engine.Write(first); err != nil {
		engine.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Engine to client. When the client is gone, keep reading (and discarding) until
		// the engine finishes, so that the engine's socket is never reset by us.
		if _, err := io.Copy(client, engine); err != nil {
			_ = engine.SetReadDeadline(time.Now().Add(drainTimeout))
			_, _ = io.Copy(io.Discard, engine)
		}
		_ = client.CloseWrite()
	}()
	// Client to engine: a client's EOF or reset both reach the engine as an orderly FIN.
	_, _ = io.Copy(engine, client)
	_ = engine.CloseWrite()
	<-done
	engine.Close()
}

// helloTimeout bounds the wait for a client's Hello, as the engine's own receive timeout would.
const helloTimeout = 30 * time.Second

// maxHelloString bounds each string of a Hello (client name, database, user, password).
const maxHelloString = 64 << 10

// readHello reads one native-protocol Hello packet (packet type 0, client name, version
// major, minor and protocol revision, database, user, password) and returns everything
// read from r, the Hello and whatever followed it in the buffer, to be sent on unchanged.
func readHello(r *bufio.Reader) ([]byte, error) {
	var got []byte
	uvarint := func() (uint64, error) {
		var v uint64
		for shift := 0; shift < 64; shift += 7 {
			b, err := r.ReadByte()
			if err != nil {
				return 0, err
			}
			got = append(got, b)
			v |= uint64(b&0x7f) << shift
			if b < 0x80 {
				return v, nil
			}
		}
		return 0, errors.New("varint too long")
	}
	str := func() error {
		n, err := uvarint()
		if err != nil {
			return err
		}
		if n > maxHelloString {
			return errors.New("string too long for a Hello")
		}
		start := len(got)
		got = append(got, make([]byte, n)...)
		_, err = io.ReadFull(r, got[start:])
		return err
	}
	if kind, err := uvarint(); err != nil {
		return nil, err
	} else if kind != 0 {
		return nil, errors.New("first packet is not a Hello")
	}
	if err := str(); err != nil { // client name
		return nil, err
	}
	for i := 0; i < 3; i++ { // version major, minor, protocol revision
		if _, err := uvarint(); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 3; i++ { // database, user, password
		if err := str(); err != nil {
			return nil, err
		}
	}
	rest, _ := r.Peek(r.Buffered())
	return append(got, rest...), nil
}

// close stops accepting and ends the relays in progress.
func (g *guard) close() {
	g.ln.Close()
	g.mu.Lock()
	g.closed = true
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// internalPort is a free loopback port for the engine's own listener.
func internalPort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
