//go:build unix

package trustroot_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/testlog"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

// Review F, finding 2: a lock file that group or others may open (a cache
// shared with the machine's users, mode 0644) can be locked for good by
// any of them, through a descriptor open for reading alone. Before an
// update locks it, it is replaced by a private one (mode 0600): the lock
// held on the old file excludes no one, and the update does not wait.
func TestTUFLockFileOthersCanOpenReplaced(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o444} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := tufrepo.New(t, publicGoodRoot)
			cache := t.TempDir()
			src := newTUF(t, tufOptions(repo, cache))
			lock := filepath.Join(trustroot.RepositoryCacheDir(cache, repo.URL()), "lock")
			require.NoError(t, os.Chmod(lock, mode))
			old, err := os.Stat(lock)
			require.NoError(t, err)

			// Another user's hold: read access, and flock(2).
			f, err := os.Open(lock)
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })
			require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))

			repo.Publish(stagingRoot)
			start := time.Now()
			require.NoError(t, within(t, lockWait+lockSlack, "Refresh", func() error { return src.Refresh(ctx) }))
			assert.Less(t, time.Since(start), lockWait, "the update waited for a lock file others could open")
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
			st, err := os.Lstat(lock)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the new lock file is private")
			assert.False(t, os.SameFile(old, st), "the lock file others could open was kept")
		})
	}

	// A private lock file stays.
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	src := newTUF(t, tufOptions(repo, cache))
	lock := filepath.Join(trustroot.RepositoryCacheDir(cache, repo.URL()), "lock")
	old, err := os.Stat(lock)
	require.NoError(t, err)
	require.NoError(t, src.Refresh(context.Background()))
	st, err := os.Lstat(lock)
	require.NoError(t, err)
	assert.True(t, os.SameFile(old, st), "a private lock file was replaced")
}

// Review F, finding 2, with real users: root's cache shared with the
// machine's users (mode 0755/0644, as TestTUFReadOnlyCacheOtherUser makes
// it), and nobody holding its lock file exclusively, for good. A read of
// the cache by root waits for the lock no longer than the bound, then
// reads without it; root's update replaces the lock file by a private one
// at once, one the user nobody cannot open.
func TestTUFSharedCacheLockHeldByOtherUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run flock as nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found")
	}
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock not found")
	}
	asNobody := func(args ...string) *exec.Cmd {
		return exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, args...)...)
	}

	ctx := context.Background()
	repo := tufrepo.New(t, publicGoodRoot)
	base := t.TempDir()
	for d := base; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	cache := filepath.Join(base, "cache")
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	chmodTree(t, cache, 0o755, 0o644) // shared with the machine's users
	lock := filepath.Join(trustroot.RepositoryCacheDir(cache, repo.URL()), "lock")

	holder := asNobody(flock, "-o", "-x", lock, "sleep", "120")
	require.NoError(t, holder.Start())
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	require.Eventually(t, func() bool {
		return exec.Command(flock, "-n", "-x", lock, "true").Run() != nil
	}, 5*time.Second, 20*time.Millisecond, "nobody could not lock root's lock file")

	// Root reads the cache alone (offline): the wait is bounded.
	logger, logs := testlog.New()
	offOpts := offlineOptions(repo, cache, t)
	offOpts.Logger = logger
	var off *trustroot.TUF
	require.NoError(t, within(t, lockWait+lockSlack, "offline NewTUF", func() (err error) {
		off, err = trustroot.NewTUF(ctx, offOpts)
		return err
	}))
	defer off.Close()
	assert.True(t, snapshot(t, off).Info.FromCache)
	assert.Contains(t, logs.String(), "reading it without the lock")

	// Root's update: the lock file nobody holds is replaced, at once.
	repo.Publish(stagingRoot)
	var src *trustroot.TUF
	start := time.Now()
	require.NoError(t, within(t, lockWait+lockSlack, "NewTUF", func() (err error) {
		src, err = trustroot.NewTUF(ctx, tufOptions(repo, cache))
		return err
	}))
	defer src.Close()
	assert.Less(t, time.Since(start), lockWait, "root's update waited for nobody's lock")
	assert.NoError(t, src.LastError())
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
	st, err := os.Lstat(lock)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	out, err := asNobody(flock, "-n", "-x", lock, "true").CombinedOutput()
	assert.Error(t, err, "nobody opened and locked the new lock file: %s", out)
}
