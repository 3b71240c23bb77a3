package reports_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/reports"
)

// requireChromiumEnv makes a missing browser a failure rather than a
// skip, as CI sets it.
const requireChromiumEnv = "DEDUPSIM_REQUIRE_CHROMIUM"

// screenshotDirEnv names a folder to keep the test's screenshot in, for a
// person to look at.
const screenshotDirEnv = "DEDUPSIM_SCREENSHOT_DIR"

// chromium finds a headless-capable Chromium, or skips the test: unless
// DEDUPSIM_REQUIRE_CHROMIUM=1, which fails it.
func chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv(requireChromiumEnv) == "1" {
		require.FailNow(tb, "chromium is not on PATH and "+requireChromiumEnv+"=1; "+
			"run scripts/ensure-chromium.sh")
	}
	tb.Skip("chromium not on PATH (scripts/ensure-chromium.sh installs it)")
	return ""
}

// browse runs headless Chromium on the page at path with args, and
// returns its standard output and error.
func browse(tb testing.TB, bin, path string, args ...string) (string, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + tb.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+path)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(tb, cmd.Run(), errOut.String())
	return out.String(), errOut.String()
}

// consoleLines picks out what the page wrote to its console: errors,
// uncaught exceptions and refused loads all show as CONSOLE lines.
func consoleLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			out = append(out, l)
		}
	}
	return out
}

func TestHTMLRendersInChromiumWithALanePerWorkerAndAQuietConsole(t *testing.T) {
	bin := chromium(t)
	path := filepath.Join(t.TempDir(), "report.html")
	page := render(t, func(b *bytes.Buffer) error { return reports.HTML(b, recorded(t)) })
	require.NoError(t, os.WriteFile(path, []byte(page), 0o644))

	dom, stderr := browse(t, bin, path, "--dump-dom")
	require.Empty(t, consoleLines(stderr))
	require.Contains(t, dom, `data-ready="1"`, "the page's script did not finish")
	require.Contains(t, dom, `data-lane="W1"`)
	require.Contains(t, dom, `data-lane="W2"`)
	require.Contains(t, dom, "no-duplicate broke:")

	shot := filepath.Join(t.TempDir(), "report.png")
	_, stderr = browse(t, bin, path, "--hide-scrollbars", "--window-size=1400,2400",
		"--screenshot="+shot)
	require.Empty(t, consoleLines(stderr))
	png, err := os.ReadFile(shot)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "not a PNG")
	if dir := os.Getenv(screenshotDirEnv); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "report.png"), png, 0o644))
	}
}
