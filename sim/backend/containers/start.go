package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/dedupsim/dedupsim/sim/backend/external"
)

// Container is one container the backend runs.
type Container struct {
	// Role is "postgres" or "redis".
	Role string
	// Image is the image it runs: the configured one or its stand-in.
	Image string
	// ID is the Docker container id.
	ID string
	// Addr is where its port is published, host:port.
	Addr string
}

// The servers' ports inside their containers, and the database the
// Postgres container creates.
const (
	postgresPort = "5432/tcp"
	redisPort    = "6379/tcp"
	dbUser       = "dedupsim"
	dbName       = "dedupsim"
)

// spec is what one container needs beyond what both share.
type spec struct {
	role, image, port string
	env               map[string]string
	cmd               []string
	tmpfs             map[string]string
}

// postgresSpec runs Postgres for throwaway data: on tmpfs, without
// fsync, with room for the connections of a 16-worker scenario and more.
func postgresSpec(image, password string) spec {
	return spec{role: "postgres", image: image, port: postgresPort,
		env: map[string]string{"POSTGRES_USER": dbUser,
			"POSTGRES_PASSWORD": password, "POSTGRES_DB": dbName,
			"PGDATA": "/var/lib/postgresql/data"},
		cmd: []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=300"},
		tmpfs: map[string]string{"/var/lib/postgresql/data": "rw"}}
}

// redisSpec runs Redis without persistence.
func redisSpec(image string) spec {
	return spec{role: "redis", image: image, port: redisPort,
		cmd: []string{"redis-server", "--save", "", "--appendonly", "no"}}
}

// start starts one container and waits until its port is published and
// listened on inside. Whether the server answers is checked afterwards,
// by the caller, with a real client.
func (b *Backend) start(ctx context.Context, s spec) (Container, error) {
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(s.port),
		testcontainers.WithEnv(s.env),
		testcontainers.WithCmd(s.cmd...),
		testcontainers.WithLabels(labels(b.owner, b.id, s.role)),
		testcontainers.WithTmpfs(s.tmpfs),
		testcontainers.WithLogger(slogPrintf{b.log.With("container", s.role)}),
		testcontainers.WithWaitStrategyAndDeadline(b.cfg.StartTimeout,
			wait.ForListeningPort(s.port)),
	}
	if b.host == loopback {
		opts = append(opts, testcontainers.WithHostConfigModifier(
			bindLoopback(s.port)))
	}
	ctr, err := testcontainers.Run(ctx, s.image, opts...)
	c := Container{Role: s.role, Image: s.image}
	if ctr != nil {
		c.ID = ctr.GetContainerID()
	}
	if err != nil {
		return c, fmt.Errorf("start %s container: %w", s.role, err)
	}
	c.Addr, err = b.address(ctx, ctr, s.port)
	return c, err
}

// bindLoopback publishes port on loopback only, at a port the engine
// picks: nothing outside this machine reaches the servers.
func bindLoopback(port string) func(*container.HostConfig) {
	return func(hc *container.HostConfig) {
		hc.PortBindings = network.PortMap{network.MustParsePort(port): {
			{HostIP: netip.MustParseAddr(loopback)}}}
	}
}

// address is where the container's port is published.
func (b *Backend) address(ctx context.Context, ctr *testcontainers.DockerContainer,
	port string) (string, error) {
	host := b.host
	if host == "" {
		h, err := ctr.Host(ctx)
		if err != nil {
			return "", fmt.Errorf("find container host: %w", err)
		}
		host = h
	}
	p, err := ctr.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("find published port %s: %w", port, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(p.Num()))), nil
}

// waitPostgres waits until Postgres accepts a query over TCP at url.
// The official image's first start runs a temporary server for its init
// scripts and then restarts; that temporary server listens on its Unix
// socket only, so a TCP query succeeds only once the real server runs,
// whatever the log says.
func waitPostgres(ctx context.Context, url string) error {
	return retry(ctx, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		return conn.Ping(ctx)
	})
}

// waitRedis waits until Redis answers PING at url.
func waitRedis(ctx context.Context, url string) error {
	return retry(ctx, func(ctx context.Context) error {
		return external.PingRedis(ctx, url)
	})
}

// retry calls try every 100ms until it succeeds or ctx ends, and returns
// its last error then.
func retry(ctx context.Context, try func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := try(attempt)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
