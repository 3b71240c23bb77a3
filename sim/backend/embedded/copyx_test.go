package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dedupsim/dedupsim/core/store"
)

func TestCopyWorkers(t *testing.T) {
	ctx := context.Background()
	bins, _ := findBinaries(ctx, "", defaultSearch())
	bins.version, _ = readVersion(ctx, bins)
	cfg, _ := Config{}.withDefaults()
	tm := templateStore{cacheDir: cfg.CacheDir, pgVersion: bins.version, schemaVersion: store.SchemaVersion()}
	m, err := tm.load()
	if err != nil { t.Fatal(err) }
	acct, _ := lookupAccount("nobody")
	var nofsm []fileEntry
	for _, e := range m.Files { if !strings.HasSuffix(e.Path, "_fsm") && !strings.HasSuffix(e.Path, "_vm") { nofsm = append(nofsm, e) } }
	for _, root := range []string{"/dev/shm", "/tmp"} {
	for _, files := range [][]fileEntry{m.Files, nofsm} {
	for _, w := range []int{1, 2, 4, 8, 16} {
		copyWorkers = w
		var tot time.Duration
		for i := 0; i < 5; i++ {
			d, _ := os.MkdirTemp(root, "x")
			t0 := time.Now()
			if err := copyTree(ctx, tm.dataDir(), filepath.Join(d, "data"), files, acct); err != nil { t.Fatal(err) }
			tot += time.Since(t0)
			os.RemoveAll(d)
		}
		fmt.Println(root, len(files), w, tot/5)
	}}}
}
