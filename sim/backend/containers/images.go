package containers

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// ErrNoImage means an image is neither on the engine nor pullable, and
// neither is its stand-in. It wraps backend.ErrUnavailable.
var ErrNoImage = fmt.Errorf("image not available: %w", backend.ErrUnavailable)

// resolveImage returns the image to run: image when the engine has it or
// can pull it, else fallback when the engine has that.
func (b *Backend) resolveImage(ctx context.Context, cli *testcontainers.DockerClient,
	image, fallback string) (string, error) {
	ok, err := present(ctx, cli, image)
	if err != nil || ok {
		return image, err
	}
	pullErr := b.pull(ctx, cli, image)
	if pullErr == nil {
		return image, nil
	}
	if fallback != image {
		ok, err := present(ctx, cli, fallback)
		if err != nil {
			return "", err
		}
		if ok {
			b.log.Info("image not pullable; using its local stand-in",
				"image", image, "stand_in", fallback, "err", pullErr)
			return fallback, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not on the Docker engine and cannot be "+
		"pulled (%w), nor is %s there (make images builds it)",
		ErrNoImage, image, firstLine(pullErr), fallback)
}

// present reports whether the engine has image.
func present(ctx context.Context, cli *testcontainers.DockerClient,
	image string) (bool, error) {
	_, err := cli.ImageInspect(ctx, image)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", image, err)
	}
	return true, nil
}

// pull pulls image, within the configured time.
func (b *Backend) pull(ctx context.Context, cli *testcontainers.DockerClient,
	image string) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PullTimeout)
	defer cancel()
	b.log.Info("pulling image", "image", image)
	resp, err := cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return fmt.Errorf("pull image %s: %w", image, err)
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return fmt.Errorf("pull image %s: %w", image, err)
	}
	return nil
}
