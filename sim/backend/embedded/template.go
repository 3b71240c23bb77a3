package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// templateStore is the cache of one template data directory, for one
// PostgreSQL version and one schema version:
//
//	<cache>/<key>/data/          the data directory, cleanly shut down
//	<cache>/<key>/manifest.json  its files and sizes (see manifest)
//	<cache>/<key>/complete       the SHA-256 of manifest.json
//	<cache>/<key>.lock           shared while copying, exclusive to build
//	<cache>/<key>.tmp-<random>/  a build in progress
//
// A template is published by renaming its build directory, so it is
// either whole or absent; the marker and the manifest catch later damage.
type templateStore struct {
	cacheDir      string
	pgVersion     string // as postgres --version prints it
	schemaVersion string // store.SchemaVersion
	recipe        string // see templateRecipe
}

// manifest lists a template's files, so that a copy can tell a damaged
// template from a whole one without reading every byte.
type manifest struct {
	ID            string      `json:"id"` // random, new for every build
	PGVersion     string      `json:"pg_version"`
	SchemaVersion string      `json:"schema_version"`
	Recipe        string      `json:"recipe"`
	Files         []fileEntry `json:"files"`
	ControlSum    string      `json:"control_sum"` // see controlSum
}

// errTemplateMissing means no template has been built yet, or only by
// another recipe.
var errTemplateMissing = errors.New("template missing")

// recipeVersion changes whenever the way a template is built changes in
// a way serverConf does not show (initdb options, files left out).
const recipeVersion = "1"

// templateRecipe names how templates are built, so that a template built
// by an older dedupsim is replaced rather than used.
func templateRecipe() string {
	return sha256Hex([]byte(recipeVersion + "\n" + serverConf))[:16]
}

func (t templateStore) key() string      { return t.pgVersion + "-" + t.schemaVersion }
func (t templateStore) dir() string      { return filepath.Join(t.cacheDir, t.key()) }
func (t templateStore) dataDir() string  { return filepath.Join(t.dir(), "data") }
func (t templateStore) lockPath() string { return t.dir() + ".lock" }

// load reads the manifest and checks it against the marker and the
// control files. A template that was never built is errTemplateMissing.
func (t templateStore) load() (manifest, error) {
	var m manifest
	if _, err := os.Lstat(t.dir()); errors.Is(err, fs.ErrNotExist) {
		return m, errTemplateMissing
	}
	raw, err := os.ReadFile(filepath.Join(t.dir(), "manifest.json"))
	if err != nil {
		return m, fmt.Errorf("read manifest: %w: %w", errTemplateDamaged, err)
	}
	marker, err := os.ReadFile(filepath.Join(t.dir(), "complete"))
	if err != nil {
		return m, fmt.Errorf("read marker: %w: %w", errTemplateDamaged, err)
	}
	if string(bytes.TrimSpace(marker)) != sha256Hex(raw) {
		return m, fmt.Errorf("check marker: %w", errTemplateDamaged)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("decode manifest: %w: %w", errTemplateDamaged, err)
	}
	if m.Recipe != t.recipe {
		return m, fmt.Errorf("template built by recipe %s, want %s: %w",
			m.Recipe, t.recipe, errTemplateMissing)
	}
	sum, err := controlSum(t.dataDir())
	if err != nil || sum != m.ControlSum {
		return m, fmt.Errorf("check control files: %w", errTemplateDamaged)
	}
	return m, nil
}

// copyTo copies the template's data directory to dst, owned by acct,
// holding the shared lock so that no build replaces it meanwhile.
func (t templateStore) copyTo(ctx context.Context, dst string,
	acct account) (manifest, error) {
	unlock, err := t.lock(ctx, false)
	if err != nil {
		return manifest{}, err
	}
	defer unlock()
	m, err := t.load()
	if err != nil {
		return m, fmt.Errorf("load template %s: %w", t.dir(), err)
	}
	if err := copyTree(ctx, t.dataDir(), dst, m.Files, acct); err != nil {
		return m, fmt.Errorf("copy template %s: %w", t.dir(), err)
	}
	return m, nil
}

// rebuild replaces the template whose manifest ID is badID, or builds a
// missing one (badID empty), holding the exclusive lock. When another
// process has already done so, it leaves theirs alone and returns false.
// build fills a data directory that does not exist yet.
func (t templateStore) rebuild(ctx context.Context, badID string,
	build func(ctx context.Context, dataDir string) error) (bool, error) {
	unlock, err := t.lock(ctx, true)
	if err != nil {
		return false, err
	}
	defer unlock()
	if m, err := t.load(); err == nil && m.ID != badID {
		return false, nil
	}
	if err := t.removeAll(); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(t.cacheDir, t.key()+".tmp-")
	if err != nil {
		return false, fmt.Errorf("build template: %w", err)
	}
	if err := t.build(ctx, tmp, build); err != nil {
		_ = os.RemoveAll(tmp)
		return false, fmt.Errorf("build template %s: %w", t.dir(), err)
	}
	if err := os.Rename(tmp, t.dir()); err != nil {
		_ = os.RemoveAll(tmp)
		return false, fmt.Errorf("publish template: %w", err)
	}
	return true, nil
}

// build fills tmp with a data directory, its manifest and its marker.
func (t templateStore) build(ctx context.Context, tmp string,
	build func(ctx context.Context, dataDir string) error) error {
	data := filepath.Join(tmp, "data")
	if err := build(ctx, data); err != nil {
		return err
	}
	files, err := scanTree(data, func(string) bool { return false })
	if err != nil {
		return err
	}
	sum, err := controlSum(data)
	if err != nil {
		return err
	}
	m := manifest{ID: randomID(), PGVersion: t.pgVersion,
		SchemaVersion: t.schemaVersion, Recipe: t.recipe,
		Files: files, ControlSum: sum}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "manifest.json"), raw, 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	marker := []byte(sha256Hex(raw) + "\n")
	if err := os.WriteFile(filepath.Join(tmp, "complete"), marker, 0o644); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	return nil
}

// removeAll deletes the template and any build a crash left behind. Only
// the holder of the exclusive lock may call it.
func (t templateStore) removeAll() error {
	stale, _ := filepath.Glob(filepath.Join(t.cacheDir, t.key()+".tmp-*"))
	for _, dir := range append(stale, t.dir()) {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove template: %w", err)
		}
	}
	return nil
}

// lock takes the template's file lock, exclusive or shared, and returns
// what releases it.
func (t templateStore) lock(ctx context.Context, exclusive bool) (func(), error) {
	if err := os.MkdirAll(t.cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("make cache dir: %w", err)
	}
	l := flock.New(t.lockPath())
	try := l.TryRLockContext
	if exclusive {
		try = l.TryLockContext
	}
	if _, err := try(ctx, 10*time.Millisecond); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("lock template %s: %w", t.key(), err)
	}
	return func() { _ = l.Close() }, nil
}

// controlFiles are the small files whose every byte the manifest vouches
// for: a server will not start without them being right.
var controlFiles = []string{"PG_VERSION", "global/pg_control", "global/pg_filenode.map"}

// controlSum is the SHA-256 of the control files of a data directory.
func controlSum(dataDir string) (string, error) {
	h := sha256.New()
	for _, name := range controlFiles {
		b, err := os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(name)))
		if err != nil {
			return "", fmt.Errorf("read control file: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// randomID returns 12 random lowercase hex digits.
func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
