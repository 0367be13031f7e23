package collector

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxConnsPerIP is the default of Config.MaxConnsPerIP. A browser keeps at most
// 6 connections to one host, so 256 serves about 40 busy browsers behind one NAT address at
// once, while one address can hold at most 256 of the default 10000 -collector.maxConcurrency
// slots (it takes 40 addresses, not one, to fill them).
const DefaultMaxConnsPerIP = 256

// clientLimitListener refuses a connection when its client already has limit connections
// open. A client is an IPv4 address or an IPv6 /64 (one host is routinely given a whole /64).
// fasthttp's MaxConnsPerIP does the same per IPv6 address and does not count its refusals.
type clientLimitListener struct {
	net.Listener
	limit   int
	refused func()

	mu   sync.Mutex
	open map[netip.Addr]int
}

func newClientLimitListener(ln net.Listener, limit int, refused func()) net.Listener {
	if limit <= 0 {
		return ln
	}
	return &clientLimitListener{Listener: ln, limit: limit, refused: refused, open: map[netip.Addr]int{}}
}

// refusal is the whole answer to a refused connection; it echoes nothing.
const refusal = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nX-Content-Type-Options: nosniff\r\n" +
	"Connection: close\r\nContent-Length: 53\r\n\r\ntoo many connections from your address; close some.\r\n"

func (l *clientLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, ok := clientKey(c.RemoteAddr())
		if !ok {
			return c, nil
		}
		l.mu.Lock()
		if l.open[key] >= l.limit {
			l.mu.Unlock()
			l.refused()
			// A fresh socket's send buffer is empty: this write does not wait on the client.
			c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			c.Write([]byte(refusal))
			c.Close()
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &clientConn{Conn: c, l: l, key: key}, nil
	}
}

func (l *clientLimitListener) release(key netip.Addr) {
	l.mu.Lock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
	l.mu.Unlock()
}

// clientKey is the address a connection counts against: the IPv4 address, or the IPv6 /64.
func clientKey(a net.Addr) (netip.Addr, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr(), true
	}
	return ip, true
}

// clientConn gives its slot back once, on its first Close.
type clientConn struct {
	net.Conn
	l    *clientLimitListener
	key  netip.Addr
	once sync.Once
}

func (c *clientConn) Close() error {
	c.once.Do(func() { c.l.release(c.key) })
	return c.Conn.Close()
}
