package external

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Owner names the process that created something a later process may find
// left behind: a run's schema here, a container in package containers. A
// pid alone is not enough: pids are reused, and they restart after a
// reboot. So an owner is a host, the boot of its kernel, a pid and the
// time that process started.
type Owner struct {
	Host string `json:"host"`
	Boot string `json:"boot"`
	PID  int    `json:"pid"`
	// Start is when the process started, in clock ticks after boot.
	Start uint64 `json:"start"`
}

// CurrentOwner describes this process.
func CurrentOwner() (Owner, error) {
	host, err := os.Hostname()
	if err != nil {
		return Owner{}, fmt.Errorf("read host name: %w", err)
	}
	boot, err := bootID()
	if err != nil {
		return Owner{}, err
	}
	pid := os.Getpid()
	start, err := processStart(pid)
	if err != nil {
		return Owner{}, err
	}
	return Owner{Host: host, Boot: boot, PID: pid, Start: start}, nil
}

// Dead reports whether the owner is known to have exited. It answers
// false whenever it cannot be sure: for an owner on another host, or when
// /proc cannot be read. Only a definite answer lets a sweep remove what
// the owner left.
func (o Owner) Dead() bool {
	me, err := CurrentOwner()
	if err != nil || o.Host != me.Host || o.PID <= 0 {
		return false
	}
	if o.Boot != me.Boot {
		return true // the machine rebooted since
	}
	start, err := processStart(o.PID)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	return start != o.Start || zombie(o.PID)
}

// String gives the owner as "pid 123 on host".
func (o Owner) String() string {
	return fmt.Sprintf("pid %d on %s", o.PID, o.Host)
}

// bootID names the current boot of the machine.
func bootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// statFields reads /proc/<pid>/stat and returns its fields from the third
// (the state) on. The second, the command name, is in parentheses and may
// hold spaces.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, fmt.Errorf("read process %d stat: %w", pid, err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("parse process %d stat: %w", pid, errBadStat)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// processStart reads when pid started, in clock ticks after boot (field
// 22 of its stat).
func processStart(pid int) (uint64, error) {
	fields, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	const startField = 22 - 3
	if len(fields) <= startField {
		return 0, fmt.Errorf("parse process %d stat: %w", pid, errBadStat)
	}
	start, err := strconv.ParseUint(fields[startField], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse process %d start: %w", pid, err)
	}
	return start, nil
}

// zombie reports whether pid has exited but not been reaped yet, as
// happens under container inits that never reap.
func zombie(pid int) bool {
	fields, err := statFields(pid)
	return err == nil && len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

var errBadStat = errors.New("unexpected format")
