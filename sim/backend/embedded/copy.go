package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// fileEntry is one file or directory of a data directory.
type fileEntry struct {
	Path string `json:"path"` // slash-separated, relative to the data dir
	Size int64  `json:"size"`
	Dir  bool   `json:"dir,omitempty"`
}

// errTemplateDamaged means a template's files are not those its manifest
// lists: one is missing, or has another size, or its marker is wrong.
var errTemplateDamaged = errors.New("template damaged")

// copyWorkers is how many files are copied at once. The copy is mostly
// system calls per file (open, create, chown, copy_file_range, close);
// a few in flight hide their latency.
const copyWorkers = 4

// copyTree copies the entries of src into dst, which must not exist, and
// gives every copy to acct. Entries list parents before children. A
// source file missing or of another size is errTemplateDamaged.
func copyTree(ctx context.Context, src, dst string, entries []fileEntry,
	acct account) error {
	if err := makeDir(dst, acct); err != nil {
		return err
	}
	var files []fileEntry
	for _, e := range entries {
		if !e.Dir {
			files = append(files, e)
			continue
		}
		if err := copyDir(src, dst, e, acct); err != nil {
			return err
		}
	}

	errs := make([]error, copyWorkers)
	var wg sync.WaitGroup
	for w := range copyWorkers {
		wg.Go(func() {
			for i := w; i < len(files) && errs[w] == nil; i += copyWorkers {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				errs[w] = copyFile(src, dst, files[i], acct)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// copyDir makes the directory e of src in dst, once sure src has it.
func copyDir(src, dst string, e fileEntry, acct account) error {
	info, err := os.Lstat(filepath.Join(src, filepath.FromSlash(e.Path)))
	if err != nil || !info.IsDir() {
		return fmt.Errorf("check directory %s: %w", e.Path, errTemplateDamaged)
	}
	return makeDir(filepath.Join(dst, filepath.FromSlash(e.Path)), acct)
}

// makeDir makes one directory of a data directory, mode 0700 as
// postgres wants, owned by acct.
func makeDir(path string, acct account) error {
	if err := os.Mkdir(path, 0o700); err != nil {
		return fmt.Errorf("make directory: %w", err)
	}
	return acct.chown(path)
}

// copyFile copies the file e from src to dst, owned by acct.
func copyFile(src, dst string, e fileEntry, acct account) error {
	rel := filepath.FromSlash(e.Path)
	in, err := os.Open(filepath.Join(src, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("copy %s: file missing: %w", e.Path, errTemplateDamaged)
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.Path, err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.Path, err)
	}
	if !info.Mode().IsRegular() || info.Size() != e.Size {
		return fmt.Errorf("copy %s: size %d, want %d: %w",
			e.Path, info.Size(), e.Size, errTemplateDamaged)
	}

	out, err := os.OpenFile(filepath.Join(dst, rel),
		os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.Path, err)
	}
	// io.Copy between two files uses copy_file_range: no user-space copy.
	_, err = io.Copy(out, in)
	if err == nil && acct.switches() {
		err = out.Chown(acct.uid, acct.gid)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.Path, err)
	}
	return nil
}

// scanTree lists the files and directories under root, parents first,
// leaving out those skip says are not worth keeping.
func scanTree(root string, skip func(rel string) bool) ([]fileEntry, error) {
	var entries []fileEntry
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := fileEntry{Path: rel, Dir: d.IsDir()}
		if !e.Dir {
			e.Size = info.Size()
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	return entries, nil
}
