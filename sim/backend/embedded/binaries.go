package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// ErrNoServerBinaries means no PostgreSQL server binaries were found. Its
// message names the command that installs them.
var ErrNoServerBinaries = fmt.Errorf(
	"no PostgreSQL server binaries (postgres, initdb) found; "+
		"on Debian or Ubuntu install them with: %s", installCommand())

// installCommand is the command that installs the server binaries, with
// sudo unless the process already runs as root.
func installCommand() string {
	if os.Geteuid() == 0 {
		return "apt-get install -y postgresql"
	}
	return "sudo apt-get install -y postgresql"
}

// binaries locates one PostgreSQL installation.
type binaries struct {
	dir     string // holds postgres and initdb
	version string // the server's version, e.g. "15.14"
}

// minMajor is the oldest PostgreSQL the backend works with: DROP
// DATABASE ... WITH (FORCE) came in 13.
const minMajor = 13

var errTooOld = fmt.Errorf("PostgreSQL %d or later is needed", minMajor)

func (b binaries) postgres() string { return filepath.Join(b.dir, "postgres") }
func (b binaries) initdb() string   { return filepath.Join(b.dir, "initdb") }

// major is the major version, 0 when the version is not a number.
func (b binaries) major() int {
	nums, err := parseVersion(b.version)
	if err != nil {
		return 0
	}
	return nums[0]
}

// search says where to look for server binaries; tests replace it.
type search struct {
	lookPath   func(file string) (string, error)
	debianRoot string // holds <version>/bin, as /usr/lib/postgresql does
}

// defaultSearch looks where a Debian or a hand-made install puts them.
func defaultSearch() search {
	return search{lookPath: exec.LookPath, debianRoot: "/usr/lib/postgresql"}
}

// findBinaries returns the first directory holding both postgres and
// initdb: binDir when set, else PATH, pg_config --bindir, Debian's layout.
func findBinaries(ctx context.Context, binDir string, s search) (binaries, error) {
	var looked []string
	for _, candidates := range s.sources(binDir) {
		for _, dir := range candidates(ctx) {
			if hasServerBinaries(dir) {
				return binaries{dir: dir}, nil
			}
			looked = append(looked, dir)
		}
	}
	where := strings.Join(slices.Compact(looked), ", ")
	if where == "" {
		where = "PATH, pg_config and " + s.debianRoot
	}
	return binaries{}, fmt.Errorf("find server binaries (looked in %s): %w: %w",
		where, backend.ErrUnavailable, ErrNoServerBinaries)
}

// sources lists where to look, in order of preference; each is asked
// only when those before it found nothing.
func (s search) sources(binDir string) []func(context.Context) []string {
	if binDir != "" {
		return []func(context.Context) []string{
			func(context.Context) []string { return []string{binDir} },
		}
	}
	return []func(context.Context) []string{
		func(context.Context) []string {
			path, err := s.lookPath("postgres")
			if err != nil {
				return nil
			}
			return []string{resolvedDir(path)}
		},
		func(ctx context.Context) []string {
			dir, err := s.pgConfigBinDir(ctx)
			if err != nil {
				return nil
			}
			return []string{dir}
		},
		func(context.Context) []string { return debianBinDirs(s.debianRoot) },
	}
}

// resolvedDir is the directory of path once symbolic links are followed,
// so that postgres found through a link sits beside its initdb.
func resolvedDir(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return filepath.Dir(path)
}

// pgConfigBinDir asks pg_config, if on PATH, where the binaries are.
func (s search) pgConfigBinDir(ctx context.Context) (string, error) {
	path, err := s.lookPath("pg_config")
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, path, "--bindir").Output()
	if err != nil {
		return "", fmt.Errorf("run pg_config --bindir: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// debianBinDirs lists root/<version>/bin, highest version first.
func debianBinDirs(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var versions []string
	for _, e := range entries {
		if _, err := parseVersion(e.Name()); err == nil {
			versions = append(versions, e.Name())
		}
	}
	slices.SortFunc(versions, func(a, b string) int {
		va, _ := parseVersion(a)
		vb, _ := parseVersion(b)
		return slices.Compare(vb, va)
	})
	dirs := make([]string, len(versions))
	for i, v := range versions {
		dirs[i] = filepath.Join(root, v, "bin")
	}
	return dirs
}

// parseVersion splits "15" or "9.6" into its numbers.
func parseVersion(s string) ([]int, error) {
	var nums []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("parse version %q: %w", s, err)
		}
		nums = append(nums, n)
	}
	return nums, nil
}

// hasServerBinaries reports whether dir holds executable postgres and
// initdb files.
func hasServerBinaries(dir string) bool {
	for _, name := range []string{"postgres", "initdb"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// readVersion asks postgres for its version: "postgres (PostgreSQL) 15.14
// (Debian 15.14-0+deb12u1)" gives "15.14".
func readVersion(ctx context.Context, b binaries) (string, error) {
	out, err := exec.CommandContext(ctx, b.postgres(), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("run %s --version: %w", b.postgres(), err)
	}
	fields := bytes.Fields(out)
	if len(fields) < 3 {
		return "", fmt.Errorf("parse %s --version output %q: %w",
			b.postgres(), out, errUnknownVersion)
	}
	// The version names a cache directory, so it must be a plain name.
	version := string(fields[2])
	if version == "." || version == ".." || strings.Contains(version, "/") {
		return "", fmt.Errorf("parse %s --version output %q: %w",
			b.postgres(), out, errUnknownVersion)
	}
	return version, nil
}

var errUnknownVersion = errors.New("unknown version format")
