package embedded

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

// process is a child started from an OS thread that stays locked to its
// goroutine, and so alive, for the child's whole life. Pdeathsig fires
// when the thread that forked the child exits, not the process: were the
// thread handed back to the scheduler and retired, the server would be
// killed while its owner still runs.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the child has exited and been reaped
	err  error         // what Wait returned; read only after done
}

// startProcess starts cmd from a goroutine that owns its thread until
// the child exits.
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go p.run(started)
	if err := <-started; err != nil {
		<-p.done
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return p, nil
}

// run starts and reaps the child. It never unlocks the thread: a
// goroutine that exits locked takes its thread with it, after the child
// is gone.
func (p *process) run(started chan<- error) {
	defer close(p.done)
	runtime.LockOSThread()
	if err := p.cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	p.err = p.cmd.Wait()
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the child, or to its whole process group.
func (p *process) signal(sig syscall.Signal, group bool) {
	pid := p.pid()
	if group {
		pid = -pid
	}
	_ = syscall.Kill(pid, sig) // it may have exited meanwhile
}

// runProcess runs cmd to its end, killing it if ctx ends first.
func runProcess(ctx context.Context, cmd *exec.Cmd) error {
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.signal(syscall.SIGKILL, true)
		<-p.done
		return fmt.Errorf("run %s: %w", cmd.Path, ctx.Err())
	}
	if p.err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, p.err)
	}
	return nil
}
