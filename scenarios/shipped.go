package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.yaml payloads
var shipped embed.FS

// Shipped lists the names of the scenarios shipped with dedupsim, sorted.
func Shipped() []string {
	files, _ := fs.Glob(shipped, "*.yaml")
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, path.Ext(f))
	}
	sort.Strings(names)
	return names
}

// ErrNotShipped is wrapped by LoadShipped's error for an unknown name.
var ErrNotShipped = fmt.Errorf("no shipped scenario of that name")

// LoadShipped reads the shipped scenario called name.
func LoadShipped(name string) (*Scenario, error) {
	file := name + ".yaml"
	if _, err := fs.Stat(shipped, file); err != nil {
		return nil, fmt.Errorf("%w: %q (shipped: %s)", ErrNotShipped, name,
			strings.Join(Shipped(), ", "))
	}
	return LoadFS(shipped, file)
}
