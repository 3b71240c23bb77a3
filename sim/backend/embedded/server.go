package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// ErrServerExited means the Postgres server exited while the backend
// still needed it: it crashed, or someone killed it.
var ErrServerExited = errors.New("postgres server exited unexpectedly")

// serverConf is appended to the postgresql.conf that initdb writes. The
// server is thrown away after a run, so durability is traded for speed.
// Dynamic shared memory lives in files of the data directory (mmap),
// not in /dev/shm (posix), so that a killed server leaves nothing behind
// once its data directory is swept. The port and the socket directory
// differ per start and are passed on the command line.
const serverConf = `
# dedupsim embedded backend: a throwaway server.
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 32MB
dynamic_shared_memory_type = mmap
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
wal_recycle = off
wal_init_zero = off
min_wal_size = 2MB
max_wal_size = 64MB
logging_collector = off
log_destination = 'stderr'
`

// server is one running postmaster.
type server struct {
	proc     *process
	in       instance
	port     int
	logStart int64 // where this start's lines begin in the server log
}

// errPortTaken means another process bound the port between the moment
// it was picked and the server's bind.
var errPortTaken = errors.New("port taken")

// errExitedEarly means the server exited before it was ready: its data
// directory may be damaged.
var errExitedEarly = errors.New("postgres exited during start")

// startServer starts postgres on in's data directory and waits until it
// accepts connections. A port taken meanwhile is retried with another.
func startServer(ctx context.Context, bins binaries, acct account,
	in instance, timeout time.Duration) (*server, error) {
	const attempts = 3
	for i := 1; ; i++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := launchServer(ctx, bins, acct, in, port, timeout)
		if !errors.Is(err, errPortTaken) || i == attempts {
			return s, err
		}
	}
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; startServer retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launchServer starts postgres on port and waits until it is ready.
func launchServer(ctx context.Context, bins binaries, acct account,
	in instance, port int, timeout time.Duration) (*server, error) {
	logFile, err := os.OpenFile(in.logPath(),
		os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	info, err := logFile.Stat()
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}

	cmd := exec.Command(bins.postgres(), serverArgs(in, port)...)
	cmd.Dir = in.dataDir()
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = acct.sysProcAttr()
	proc, err := startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}

	s := &server{proc: proc, in: in, port: port, logStart: info.Size()}
	if err := s.waitReady(ctx, timeout); err != nil {
		s.proc.signal(syscall.SIGKILL, true)
		<-s.proc.done
		return nil, err
	}
	return s, nil
}

// serverArgs are the postgres arguments for in and port.
func serverArgs(in instance, port int) []string {
	return []string{"-D", in.dataDir(), "-p", strconv.Itoa(port),
		"-k", in.sockDir()}
}

// childEnv is the environment of initdb and postgres: messages in
// English, so that a failure can be read and recognised.
func childEnv() []string {
	return []string{"LC_ALL=C", "TZ=UTC", "PATH=/usr/bin:/bin"}
}

// waitReady polls postmaster.pid until the server says it is ready, it
// exits, or the timeout passes.
func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !s.ready() {
		select {
		case <-s.proc.done:
			return s.exitError()
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres on port %d: %w\n%s",
				s.port, ctx.Err(), s.logTail())
		case <-tick.C:
		}
	}
	return nil
}

// ready reports whether postmaster.pid names this server and says
// "ready" on its status line, the eighth.
func (s *server) ready() bool {
	b, err := os.ReadFile(filepath.Join(s.in.dataDir(), "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := bytes.Split(b, []byte("\n"))
	const statusLine = 7
	if len(lines) <= statusLine {
		return false
	}
	pid := strconv.Itoa(s.proc.pid())
	return string(lines[0]) == pid &&
		string(bytes.TrimSpace(lines[statusLine])) == "ready"
}

// exitError explains why the server exited during start.
func (s *server) exitError() error {
	tail := s.logTail()
	cause := errExitedEarly
	if bytes.Contains(tail, []byte("Address already in use")) {
		cause = errPortTaken
	}
	return fmt.Errorf("start postgres on port %d: %w (%v)\n%s",
		s.port, cause, s.proc.err, tail)
}

// stop asks for a fast shutdown and kills the server if it has not
// stopped within timeout.
func (s *server) stop(timeout time.Duration) error {
	if s.proc.exited() {
		return fmt.Errorf("stop postgres: %w (%v)\n%s",
			ErrServerExited, s.proc.err, s.logTail())
	}
	s.proc.signal(syscall.SIGINT, false)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.proc.done:
		return nil
	case <-timer.C:
	}
	s.proc.signal(syscall.SIGKILL, true)
	<-s.proc.done
	return fmt.Errorf("stop postgres: %w: no fast shutdown within %s",
		errKilled, timeout)
}

var errKilled = errors.New("killed")

// logTail returns the end of what this start wrote to the server log,
// for error messages.
func (s *server) logTail() []byte {
	const limit = 4 << 10
	f, err := os.Open(s.in.logPath())
	if err != nil {
		return nil
	}
	defer f.Close()
	from := s.logStart
	if info, err := f.Stat(); err == nil {
		from = max(from, info.Size()-limit)
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, from, limit))
	return bytes.TrimSpace(b)
}
