package embedded

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// owner names the process that owns a data directory. A pid alone is not
// enough: pids are reused, and they restart from 1 after a reboot.
type owner struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"` // clock ticks after boot
	BootID    string `json:"boot_id"`
}

// ownerFile is the name of the file in an instance directory that
// records its owner.
const ownerFile = "owner.json"

// currentOwner describes this process.
func currentOwner() (owner, error) {
	pid := os.Getpid()
	start, err := processStartTime(pid)
	if err != nil {
		return owner{}, err
	}
	boot, err := bootID()
	if err != nil {
		return owner{}, err
	}
	return owner{PID: pid, StartTime: start, BootID: boot}, nil
}

// alive reports whether the owner still runs. It errs on the side of
// alive: only a definite answer lets a sweep touch the owner's files.
func (o owner) alive() (bool, error) {
	boot, err := bootID()
	if err != nil {
		return true, err
	}
	if boot != o.BootID {
		return false, nil
	}
	start, err := processStartTime(o.PID)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return start == o.StartTime && !processGone(o.PID), nil
}

// write records the owner in dir.
func (o owner) write(dir string) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode owner: %w", err)
	}
	path := filepath.Join(dir, ownerFile)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write owner: %w", err)
	}
	return nil
}

// readOwner reads the owner recorded in dir.
func readOwner(dir string) (owner, error) {
	var o owner
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return o, fmt.Errorf("read owner: %w", err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("decode owner of %s: %w", dir, err)
	}
	return o, nil
}

// processStartTime reads field 22 of /proc/<pid>/stat: when the process
// started, in clock ticks after boot.
func processStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process %d stat: %w", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse process %d stat: %w", pid, errBadStat)
	}
	fields := strings.Fields(string(b[i+1:]))
	const startTimeField = 22 - 3 // fields after the name start at 3
	if len(fields) <= startTimeField {
		return 0, fmt.Errorf("parse process %d stat: %w", pid, errBadStat)
	}
	start, err := strconv.ParseUint(fields[startTimeField], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse process %d start time: %w", pid, err)
	}
	return start, nil
}

var errBadStat = errors.New("unexpected format")

// bootID names the current boot of the machine.
func bootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// processGone reports whether pid has exited: no longer listed, or a
// zombie its new parent has not reaped yet (some container inits never
// reap).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	state := b[i+2]
	return state == 'Z' || state == 'X'
}
