//go:build unix

package condasigs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// A file already at a package's name in the download directory is taken
// for the download only when it is a private regular file of the user
// with the same bytes. One another user planted while the directory was
// open to them (a hard link to a file of theirs, still writable through
// their link) is refused, and so is a FIFO, which is never opened.
func TestKeptFileAlreadyThere(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	body, err := os.ReadFile(filepath.Join(e.ch.Dir, "linux-64", e.honest.Filename))
	require.NoError(t, err)
	keep := func(t *testing.T, dir string) *condasigs.Report {
		t.Helper()
		done := make(chan *condasigs.Report, 1)
		go func() {
			r := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, []lockfile.Package{e.entry(e.honest, "", "")},
				condasigs.BatchOptions{DownloadUnhashed: true, DownloadDir: dir})[0]
			done <- r.Report
		}()
		select {
		case rep := <-done:
			return rep
		case <-time.After(10 * time.Second):
			t.Fatal("VerifyLocked blocked on the file at the package's name")
			return nil
		}
	}

	t.Run("an earlier run's file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "keep")
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "linux-64"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "linux-64", e.honest.Filename), body, 0o600))
		rep := keep(t, dir)
		assert.Equal(t, policy.Pass, rep.Outcome, "%+v", rep.Reasons)
	})
	t.Run("a FIFO", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "keep")
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "linux-64"), 0o700))
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "linux-64", e.honest.Filename), 0o600))
		rep := keep(t, dir)
		assert.Equal(t, policy.Warn, rep.Outcome)
		assert.Contains(t, rep.Reasons[len(rep.Reasons)-1].Message, "is not a regular file")
	})
	t.Run("another user's hard link", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a file to another user")
		}
		base := t.TempDir()
		require.NoError(t, os.Chmod(base, 0o755))
		dir := filepath.Join(base, "keep")
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "linux-64"), 0o777))
		require.NoError(t, os.Chmod(filepath.Join(dir, "linux-64"), 0o777))
		theirs := filepath.Join(base, "theirs")
		require.NoError(t, os.Mkdir(theirs, 0o755))
		require.NoError(t, os.Chown(theirs, 12345, 12345))
		src := filepath.Join(theirs, "x")
		require.NoError(t, os.WriteFile(src, body, 0o666))
		require.NoError(t, os.Chown(src, 12345, 12345))
		require.NoError(t, os.Link(src, filepath.Join(dir, "linux-64", e.honest.Filename)))
		// The user "fixes" the directories, and the check passes.
		require.NoError(t, os.Chmod(filepath.Join(dir, "linux-64"), 0o700))
		require.NoError(t, os.Chmod(dir, 0o700))
		require.NoError(t, cachedir.Prepare(dir))
		rep := keep(t, dir)
		assert.NotEqual(t, policy.Pass, rep.Outcome)
		assert.NotContains(t, rep.Reasons[len(rep.Reasons)-1].Message, "install that file")
	})
}

// Downloads waiting for their verdict hold no file descriptor: a batch of
// any size keeps as many open as the pools need, not one per package.
func TestKeptDownloadsHoldNoDescriptors(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd here")
	}
	ctx := context.Background()
	e := newBindingEnv(t)
	const n = 96
	var entries []lockfile.Package
	for i := range n {
		rec := e.ch.Add(t, condasigstest.Package{Filename: fmt.Sprintf("many%03d-1.0-0.conda", i), Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url})
		entries = append(entries, e.entry(rec, "", rec.MD5))
	}
	open := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(fds)
	}
	before, during := open(), 0
	results := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, entries, condasigs.BatchOptions{DownloadUnhashed: true,
		DownloadDir: filepath.Join(t.TempDir(), "keep"), Fetchers: 4, Workers: 2,
		Progress: func(done, total int, r condasigs.Result) {
			if done == 1 { // every download is done, no verdict kept yet
				during = open()
			}
		}})
	for _, r := range results {
		require.NoError(t, r.Err)
		require.Equal(t, policy.Pass, r.Report.Outcome, "%+v", r.Report.Reasons)
	}
	assert.Less(t, during-before, n/2, "descriptors held while %d downloads wait for their verdict", n)
}
