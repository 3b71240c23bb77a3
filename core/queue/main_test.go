package queue

import (
	"testing"

	"github.com/dedupsim/dedupsim/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}
