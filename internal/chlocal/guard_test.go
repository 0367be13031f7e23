package chlocal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"
)

func helloBytes() []byte {
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	b = binary.AppendUvarint(b, 0)
	str("clickhouse-go/2.50.0")
	b = binary.AppendUvarint(b, 2)
	b = binary.AppendUvarint(b, 50)
	b = binary.AppendUvarint(b, 54460)
	str("beacon")
	str("default")
	str("secret")
	return b
}

// TestReadHello: a whole Hello is passed on with whatever followed it; every cut of it, and
// anything that is not a Hello, is refused (the engine aborts on a partial one).
func TestReadHello(t *testing.T) {
	hello := helloBytes()
	next := []byte{0, 1, 2, 3} // the addendum and the start of a query
	got, err := readHello(bufio.NewReader(bytes.NewReader(append(append([]byte{}, hello...), next...))))
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{}, hello...), next...); !bytes.Equal(got, want) {
		t.Fatalf("passed on %x, want %x", got, want)
	}
	for cut := 0; cut < len(hello); cut++ {
		if _, err := readHello(bufio.NewReader(bytes.NewReader(hello[:cut]))); err == nil {
			t.Fatalf("a Hello cut at byte %d of %d was accepted", cut, len(hello))
		}
	}
	for _, bad := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		append([]byte{0, 0xff, 0xff, 0xff, 0x7f}, make([]byte, 16)...), // a 256 MiB client name
	} {
		if _, err := readHello(bufio.NewReader(bytes.NewReader(bad))); err == nil {
			t.Fatalf("accepted %q as a Hello", bad)
		}
	}
}
