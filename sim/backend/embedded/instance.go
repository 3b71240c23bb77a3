package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// instance is the runtime directory of one server:
//
//	srv-<random>/    mode 0711, owned by this process's user
//	  owner.json     the process that owns it (see owner)
//	  kept           present once a run asked to keep its data
//	  data/          the data directory, owned by the server's account
//	  sock/          the server's unix socket directory, likewise
//
// It is created as .new-srv-<random> and renamed once its owner is
// recorded, so a sweep never sees a srv- directory without an owner.
type instance struct {
	dir string
}

const (
	instancePrefix    = "srv-"
	newInstancePrefix = ".new-srv-"
	keptFile          = "kept"
	serverLogFile     = "server.log"
)

func (in instance) dataDir() string { return filepath.Join(in.dir, "data") }
func (in instance) sockDir() string { return filepath.Join(in.dir, "sock") }
func (in instance) logPath() string {
	return filepath.Join(in.dataDir(), serverLogFile)
}

// createInstance makes a fresh instance directory under root, owned by
// this process, with a socket directory owned by acct. Its data
// directory is left for the caller to fill.
func createInstance(root string, acct account) (instance, error) {
	me, err := currentOwner()
	if err != nil {
		return instance{}, fmt.Errorf("create instance: %w", err)
	}
	tmp, err := os.MkdirTemp(root, newInstancePrefix+"*")
	if err != nil {
		return instance{}, fmt.Errorf("create instance: %w", err)
	}
	in := instance{dir: tmp}
	if err := in.init(me, acct); err != nil {
		_ = os.RemoveAll(tmp)
		return instance{}, fmt.Errorf("create instance %s: %w", tmp, err)
	}
	name := instancePrefix + strings.TrimPrefix(filepath.Base(tmp), newInstancePrefix)
	in.dir = filepath.Join(root, name)
	if err := os.Rename(tmp, in.dir); err != nil {
		_ = os.RemoveAll(tmp)
		return instance{}, fmt.Errorf("create instance: %w", err)
	}
	return in, nil
}

// init records the owner and makes the socket directory.
func (in instance) init(me owner, acct account) error {
	if err := os.Chmod(in.dir, 0o711); err != nil {
		return err
	}
	if err := me.write(in.dir); err != nil {
		return err
	}
	if err := os.Mkdir(in.sockDir(), 0o700); err != nil {
		return err
	}
	return acct.chown(in.sockDir())
}

// markKept protects the instance from sweeps and from removal on Close.
func (in instance) markKept() error {
	path := filepath.Join(in.dir, keptFile)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return fmt.Errorf("mark %s kept: %w", in.dir, err)
	}
	return nil
}

// kept reports whether a run asked to keep the instance.
func (in instance) kept() bool {
	_, err := os.Lstat(filepath.Join(in.dir, keptFile))
	return err == nil
}

// remove deletes the instance directory and everything in it.
func (in instance) remove() error {
	if err := os.RemoveAll(in.dir); err != nil {
		return fmt.Errorf("remove %s: %w", in.dir, err)
	}
	return nil
}

// prepareRoot makes the directory that holds instances: owned by this
// process's user, writable by no one else, and searchable by acct.
func prepareRoot(root string, acct account) error {
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return fmt.Errorf("prepare runtime dir: %w", err)
	}
	err := os.Mkdir(root, 0o711)
	if err == nil {
		err = os.Chmod(root, 0o711) // the umask may have taken bits away
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("prepare runtime dir: %w", err)
	}
	if err := checkPrivate(root); err != nil {
		return fmt.Errorf("prepare runtime dir: %w", err)
	}
	if err := acct.checkReachable(root); err != nil {
		return fmt.Errorf("prepare runtime dir: %w", err)
	}
	return nil
}

// checkPrivate refuses a directory another user could plant files in:
// the runtime dir usually lives in a shared temp dir.
func checkPrivate(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.IsDir():
		return fmt.Errorf("%s: %w", dir, errNotPrivate)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s is owned by another user: %w", dir, errNotPrivate)
	case info.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by others: %w", dir, errNotPrivate)
	}
	return nil
}

var errNotPrivate = errors.New("runtime dir must be a directory only its owner can write")
