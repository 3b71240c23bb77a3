package containers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// ryukEnv turns off testcontainers' reaper, whose image no registry may
// be there to provide. This package removes its own containers instead:
// on Close, and by sweeping those of dead processes at start.
const ryukEnv = "TESTCONTAINERS_RYUK_DISABLED"

var setupOnce sync.Once

// setUpTestcontainers makes the process-wide settings testcontainers reads
// once: no reaper, and a silent default logger (each container logs
// through the backend's Logger instead).
func setUpTestcontainers() {
	setupOnce.Do(func() {
		_ = os.Setenv(ryukEnv, "true") // fails only for an invalid name
		tclog.SetDefault(tclog.NewNoopLogger())
	})
}

// dockerClient connects to the Docker engine testcontainers would use
// (DOCKER_HOST, the testcontainers properties, or the default socket).
// No engine is an error wrapping backend.ErrUnavailable.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("no Docker engine reachable: %w: %w",
			backend.ErrUnavailable, firstLine(err))
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("no Docker engine reachable: %w: %w",
			backend.ErrUnavailable, firstLine(err))
	}
	return cli, nil
}

// hostOverrideEnv tells testcontainers which host reaches the published
// ports; without it, in a container it guesses the default gateway.
const hostOverrideEnv = "TESTCONTAINERS_HOST_OVERRIDE"

// publishHost says where the containers' ports are published and
// reached: loopback for an engine on this machine, unless the user told
// testcontainers otherwise; "" for a remote engine, whose host
// testcontainers knows. For loopback it tells testcontainers so, since
// its own guess inside a container is the default gateway.
func publishHost(cli *testcontainers.DockerClient) string {
	if h := os.Getenv(hostOverrideEnv); h != "" {
		return h
	}
	host := cli.DaemonHost()
	if !strings.HasPrefix(host, "unix://") && !strings.HasPrefix(host, "npipe://") {
		return ""
	}
	_ = os.Setenv(hostOverrideEnv, loopback) // fails only for an invalid name
	return loopback
}

// loopback is the address ports are published on for a local engine.
const loopback = "127.0.0.1"

// firstLine keeps an error to its first line, so that a skipped test
// says why in one.
func firstLine(err error) error {
	msg := err.Error()
	if line, _, found := strings.Cut(msg, "\n"); found {
		return lineError{line: line, err: err}
	}
	return err
}

// lineError shows the first line of err and still unwraps to it.
type lineError struct {
	line string
	err  error
}

func (e lineError) Error() string { return e.line }
func (e lineError) Unwrap() error { return e.err }

// slogPrintf sends testcontainers' log lines to a slog logger, at debug
// level: they narrate steps, which an operator rarely needs.
type slogPrintf struct{ log *slog.Logger }

// Printf implements testcontainers' log.Logger.
func (p slogPrintf) Printf(format string, v ...any) {
	p.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
