//go:build !cgo

package chlocal

import "errors"

func serveInProcess(libPath string, argv []string) error {
	return errors.New("the local ClickHouse server needs a cgo build (CGO_ENABLED=1 and gcc); point -clickhouse.addr at an external server instead")
}
