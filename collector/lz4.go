package collector

import (
	"io"
	"sync"

	"github.com/pierrec/lz4/v4"
	"github.com/segmentio/kafka-go/compress"
)

// lz4Codec is kafka-go's lz4 codec with Kafka's own frame block size, 64 KiB (the Java
// client's default), instead of the lz4 package's 4 MiB. The frame is the same format
// either way; what differs is the buffer each compression takes from the lz4 package's pool,
// which the garbage collector empties: with 4 MiB blocks a write of a few events allocated
// megabytes whenever the pool was empty (TestShipperSmallWritesAllocateLittle).
type lz4Codec struct {
	writers, readers sync.Pool
}

func (c *lz4Codec) Code() int8   { return int8(compress.Lz4) }
func (c *lz4Codec) Name() string { return "lz4" }

func (c *lz4Codec) NewReader(r io.Reader) io.ReadCloser {
	z, _ := c.readers.Get().(*lz4.Reader)
	if z == nil {
		z = lz4.NewReader(r)
	} else {
		z.Reset(r)
	}
	return &lz4Reader{z, c}
}

func (c *lz4Codec) NewWriter(w io.Writer) io.WriteCloser {
	z, _ := c.writers.Get().(*lz4.Writer)
	if z == nil {
		z = lz4.NewWriter(w)
		// Only an invalid option fails; this one is valid.
		_ = z.Apply(lz4.BlockSizeOption(lz4.Block64Kb))
	} else {
		z.Reset(w) // keeps the options
	}
	return &lz4Writer{z, c}
}

type lz4Reader struct {
	*lz4.Reader
	c *lz4Codec
}

func (r *lz4Reader) Close() error {
	if z := r.Reader; z != nil {
		r.Reader = nil
		z.Reset(nil)
		r.c.readers.Put(z)
	}
	return nil
}

type lz4Writer struct {
	*lz4.Writer
	c *lz4Codec
}

func (w *lz4Writer) Close() error {
	z := w.Writer
	if z == nil {
		return nil
	}
	w.Writer = nil
	err := z.Close()
	z.Reset(nil)
	w.c.writers.Put(z)
	return err
}

var installLz4 sync.Once

// useKafkaLz4Blocks installs lz4Codec in kafka-go's codec table, which the protocol code
// reads for every compressed record batch it writes or reads in this process.
func useKafkaLz4Blocks() {
	installLz4.Do(func() {
		compress.Codecs[compress.Lz4] = &lz4Codec{}
	})
}
