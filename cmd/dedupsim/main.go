// Command dedupsim runs webhook dedup scenarios against real Redis and
// Postgres and checks that every provider message became exactly one
// stored message and one webhook. Run "dedupsim help" for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/dedupsim/dedupsim/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
