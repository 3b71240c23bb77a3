package containers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend/external"
)

func TestTheLabelsNameTheOwnerAndTheBackend(t *testing.T) {
	o := external.Owner{Host: "h", Boot: "b", PID: 42, Start: 7}
	l := labels(o, "abc", "postgres")
	require.Equal(t, "42", l[LabelPID])
	require.Equal(t, "abc", l[LabelBackend])
	require.Equal(t, "postgres", l[LabelRole])
	got, ok := ownerOf(l)
	require.True(t, ok)
	require.Equal(t, o, got)
}

func TestContainersWithoutAWholeOwnerAreNotSwept(t *testing.T) {
	full := labels(external.Owner{Host: "h", Boot: "b", PID: 42, Start: 7}, "x", "redis")
	for _, drop := range []string{LabelPID, LabelStart, LabelBoot, LabelHost} {
		l := map[string]string{}
		for k, v := range full {
			if k != drop {
				l[k] = v
			}
		}
		_, ok := ownerOf(l)
		require.False(t, ok, "without %s", drop)
	}
}

func TestImagesDefaultToTheOfficialOnesAndTheEnvironment(t *testing.T) {
	t.Setenv(PostgresImageEnv, "")
	t.Setenv(RedisImageEnv, "my/redis:7")
	cfg := Config{}.withDefaults()
	require.Equal(t, DefaultPostgresImage, cfg.PostgresImage)
	require.Equal(t, "my/redis:7", cfg.RedisImage)
	require.Equal(t, LocalPostgresImage, cfg.PostgresFallback)
	require.NoError(t, cfg.validate())
	cfg.StartTimeout = -1
	require.ErrorIs(t, cfg.validate(), errNegative)
}
