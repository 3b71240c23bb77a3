package containers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/dedupsim/dedupsim/sim/backend/external"
)

// The labels on every container of this package. The owner labels name
// the process that started it; LabelBackend, the Backend.
const (
	LabelPID     = "dedupsim.owner.pid"
	LabelBoot    = "dedupsim.owner.boot"
	LabelStart   = "dedupsim.owner.start"
	LabelHost    = "dedupsim.owner.host"
	LabelBackend = "dedupsim.backend"
	LabelRole    = "dedupsim.role"
)

// labels are the labels of a container of backend id in role.
func labels(o external.Owner, id, role string) map[string]string {
	return map[string]string{
		LabelPID:     strconv.Itoa(o.PID),
		LabelBoot:    o.Boot,
		LabelStart:   strconv.FormatUint(o.Start, 10),
		LabelHost:    o.Host,
		LabelBackend: id,
		LabelRole:    role,
	}
}

// ownerOf reads a container's owner from its labels; false when they do
// not name one.
func ownerOf(l map[string]string) (external.Owner, bool) {
	pid, err := strconv.Atoi(l[LabelPID])
	if err != nil {
		return external.Owner{}, false
	}
	start, err := strconv.ParseUint(l[LabelStart], 10, 64)
	if err != nil || l[LabelBoot] == "" || l[LabelHost] == "" {
		return external.Owner{}, false
	}
	return external.Owner{Host: l[LabelHost], Boot: l[LabelBoot], PID: pid,
		Start: start}, true
}

// sweep removes the containers whose owner is known to be dead. Those of
// live owners, in this process or another, are left alone. It logs what
// it removed and what it could not, and never fails New.
func (b *Backend) sweep(ctx context.Context, cli *testcontainers.DockerClient) {
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", LabelPID)})
	if err != nil {
		b.log.Warn("container sweep skipped", "err", err)
		return
	}
	for _, c := range list.Items {
		o, ok := ownerOf(c.Labels)
		if !ok || !o.Dead() {
			continue
		}
		if err := remove(ctx, cli, c.ID); err != nil {
			b.log.Warn("stale container not removed", "container", short(c.ID),
				"err", err)
			continue
		}
		b.log.Info("removed stale container", "container", short(c.ID),
			"image", c.Image, "owner", o.String())
	}
}

// removeLabelled removes every container labelled as backend id's: those
// Close or a failed New did not get hold of.
func removeLabelled(ctx context.Context, cli *testcontainers.DockerClient,
	id string) error {
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", LabelBackend+"="+id)})
	if err != nil {
		return fmt.Errorf("list containers of backend %s: %w", id, err)
	}
	for _, c := range list.Items {
		if err := remove(ctx, cli, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// remove removes a container, running or not, with its anonymous
// volumes.
func remove(ctx context.Context, cli *testcontainers.DockerClient, id string) error {
	_, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{
		Force: true, RemoveVolumes: true})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", short(id), err)
	}
	return nil
}

// short is the 12-digit form of a container id, as docker ps shows it.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
