package embedded

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is who the server processes run as: the current user, or an
// unprivileged one when the process runs as root.
type account struct {
	name     string
	uid, gid int // -1 when the server runs as the current user
}

// lookupAccount picks the account for the server: name when the process
// runs as root, the current user otherwise.
func lookupAccount(name string) (account, error) {
	if os.Geteuid() != 0 {
		return account{uid: -1, gid: -1}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("parse uid of user %s: %w", name, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("parse gid of user %s: %w", name, err)
	}
	if uid == 0 {
		return account{}, fmt.Errorf("user %s: %w", name, errRootUser)
	}
	return account{name: name, uid: uid, gid: gid}, nil
}

var errRootUser = errors.New("postgres refuses to run as root; pick another user")

// switches reports whether the server runs as another user.
func (a account) switches() bool { return a.uid >= 0 }

// sysProcAttr makes a child run as the account, in its own process group
// (a terminal's Ctrl-C reaches only the owner, which stops it in order),
// and die by SIGKILL when the thread that started it dies.
func (a account) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if a.switches() {
		attr.Credential = &syscall.Credential{
			Uid:    uint32(a.uid),
			Gid:    uint32(a.gid),
			Groups: []uint32{},
		}
	}
	return attr
}

// chown gives path to the account, when it is another user.
func (a account) chown(path string) error {
	if !a.switches() {
		return nil
	}
	if err := os.Lchown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// checkReachable makes sure the account can reach dir: every directory
// from the root down must let it search. Root's home, mode 0700, does not.
func (a account) checkReachable(dir string) error {
	if !a.switches() {
		return nil
	}
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check %s: %w", d, err)
		}
		if !a.canSearch(info) {
			return fmt.Errorf("user %s cannot reach %s (%s is mode %v): %w",
				a.name, dir, d, info.Mode().Perm(), errUnreachable)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

var errUnreachable = errors.New("set Config.RuntimeDir to a directory it can reach")

// canSearch reports whether the account may search the directory.
func (a account) canSearch(info os.FileInfo) bool {
	perm := info.Mode().Perm()
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case perm&0o001 != 0:
		return true
	case !ok:
		return false
	case int(st.Uid) == a.uid:
		return perm&0o100 != 0
	case int(st.Gid) == a.gid:
		return perm&0o010 != 0
	}
	return false
}
