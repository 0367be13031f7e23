//go:build cgo

package chlocal

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// chdb ships no header; this is the one function we call, as libchdb.so exports it.
typedef void *(*chdb_query_cmdline_fn)(int argc, char **argv);

static void *open_lib(const char *path) { return dlopen(path, RTLD_NOW | RTLD_GLOBAL); }
static const char *last_error(void) { return dlerror(); }
static void *find_sym(void *h, const char *name) { return dlsym(h, name); }
static void *call_cmdline(void *fn, int argc, char **argv) {
	return ((chdb_query_cmdline_fn)fn)(argc, argv);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// serveInProcess loads libchdb.so and runs clickhouse-local with argv; it returns when the
// query in argv ends (for a server, when the process is told to stop).
func serveInProcess(libPath string, argv []string) error {
	cpath := C.CString(libPath)
	defer C.free(unsafe.Pointer(cpath))
	h := C.open_lib(cpath)
	if h == nil {
		return fmt.Errorf("cannot load ClickHouse library %s: %s", libPath, C.GoString(C.last_error()))
	}
	csym := C.CString("chdb_query_cmdline")
	defer C.free(unsafe.Pointer(csym))
	fn := C.find_sym(h, csym)
	if fn == nil {
		return fmt.Errorf("library %s has no chdb_query_cmdline: is it the chdb engine library?", libPath)
	}
	cargs := make([]*C.char, len(argv))
	for i, a := range argv {
		cargs[i] = C.CString(a)
	}
	C.call_cmdline(fn, C.int(len(argv)), (**C.char)(unsafe.Pointer(&cargs[0])))
	for _, a := range cargs {
		C.free(unsafe.Pointer(a))
	}
	return nil
}
