//go:build unix

package trustroot_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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

// attacker is another user, who owns what these tests plant.
const attacker = 12345

// needRoot skips a test that must give files to another user.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
}

// plantDir makes dir a directory of the attacker's that everyone can
// write (mode 0777): a shared cache, or one restored from an untrusted job.
func plantDir(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777))
	require.NoError(t, os.Lchown(dir, attacker, attacker))
}

// plantLink makes link a symbolic link to target, owned by uid.
func plantLink(t *testing.T, target, link string, uid int) {
	t.Helper()
	require.NoError(t, os.RemoveAll(link))
	require.NoError(t, os.Symlink(target, link))
	require.NoError(t, os.Lchown(link, uid, uid))
}

// chownTree gives every file under dir to uid, links themselves included.
func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	}))
}

// returnsPromptly runs f and fails the test if it has not returned within
// 10 s, then releases those blocked on the FIFOs given so that it ends:
// opened for reading and writing, a FIFO lets both a reader and a writer
// waiting for the other open it, and closed, ends their reads and writes.
func returnsPromptly(t *testing.T, fifos []string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return
	case <-time.After(10 * time.Second):
		t.Errorf("still blocked after 10 s: a planted FIFO hangs the start")
	}
	for {
		for _, p := range fifos {
			if f, err := os.OpenFile(p, os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Review D, finding 1: a cache another user controls is neither read nor
// written. Each case plants a link that an online start would follow,
// to overwrite a file of the victim's or to write into a directory of the
// attacker's choosing.
func TestTUFForeignCacheNotUsed(t *testing.T) {
	t.Parallel()
	needRoot(t)
	for name, c := range map[string]struct {
		// plant prepares the cache directory cache of repo; victim is a
		// file and elsewhere a directory of the victim's.
		plant func(t *testing.T, cache, dir, victim, elsewhere string)
	}{
		"target link in a shared cache": {func(t *testing.T, cache, dir, victim, _ string) {
			plantDir(t, cache)
			plantDir(t, dir)
			plantDir(t, filepath.Join(dir, "targets"))
			plantLink(t, victim, filepath.Join(dir, "targets", "trusted_root.json"), attacker)
		}},
		"state link in a shared cache": {func(t *testing.T, cache, dir, _, elsewhere string) {
			plantDir(t, cache)
			plantDir(t, dir)
			plantLink(t, elsewhere, filepath.Join(dir, "state"), attacker)
		}},
		"repository directory of another user in a private cache": {func(t *testing.T, cache, dir, victim, _ string) {
			require.NoError(t, os.MkdirAll(cache, 0o700))
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "targets"), 0o755))
			plantLink(t, victim, filepath.Join(dir, "targets", "trusted_root.json"), attacker)
			chownTree(t, dir, attacker)
		}},
		"private repository directory in a shared cache": {func(t *testing.T, cache, dir, victim, _ string) {
			plantDir(t, cache)
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "targets"), 0o700))
			plantLink(t, victim, filepath.Join(dir, "targets", "trusted_root.json"), os.Geteuid())
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := tufrepo.New(t, publicGoodRoot)
			base := t.TempDir()
			victim := filepath.Join(base, "victim-file")
			require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
			elsewhere := filepath.Join(base, "elsewhere")
			require.NoError(t, os.Mkdir(elsewhere, 0o700))
			cache := filepath.Join(base, "shared-tuf")
			dir := trustroot.RepositoryCacheDir(cache, repo.URL())
			c.plant(t, cache, dir, victim, elsewhere)
			before := fileStates(t, cache)

			logger, logs := testlog.New()
			opts := tufOptions(repo, cache)
			opts.Logger = logger
			src := newTUF(t, opts)
			assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
			repo.Publish(stagingRoot)
			require.NoError(t, src.Refresh(context.Background()))
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))

			b, err := os.ReadFile(victim)
			require.NoError(t, err)
			assert.True(t, string(b) == "precious\n", "the victim's file was overwritten through a planted link: now %d bytes: %.40q", len(b), b)
			entries, err := os.ReadDir(elsewhere)
			require.NoError(t, err)
			assert.Empty(t, entries, "written through a planted link")
			assert.Equal(t, before, fileStates(t, cache), "a cache another user controls was written")
			assert.Equal(t, 1, strings.Count(logs.String(), "cache directory unusable"), "said once: %s", logs)
			assert.Contains(t, logs.String(), "uid 12345")

			// Offline, it is an error that says why; with the repository
			// down, no fallback to it either.
			_, err = trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "uid 12345")
			repo.SetDown(true)
			_, err = trustroot.NewTUF(context.Background(), tufOptions(repo, cache))
			require.Error(t, err)
			assert.Equal(t, before, fileStates(t, cache))
		})
	}
}

// Review D, finding 3: another user who can write the cache rolls it
// back to an older publication, really signed and unexpired, and makes
// the record of its update look fresh. The cache is not theirs to trust:
// offline fails, and an online start whose repository is down does not
// fall back on it.
func TestTUFForeignCacheRollbackRefused(t *testing.T) {
	t.Parallel()
	needRoot(t)
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	dir := trustroot.RepositoryCacheDir(cache, repo.URL())
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	old := t.TempDir() // the attacker keeps publication 1
	require.NoError(t, os.CopyFS(trustroot.RepositoryCacheDir(old, repo.URL()), os.DirFS(dir)))

	repo.Publish(stagingRoot)
	require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, newTUF(t, tufOptions(repo, cache))).Material))

	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.CopyFS(dir, os.DirFS(trustroot.RepositoryCacheDir(old, repo.URL()))))
	editRecord(t, recordPath(cache, repo.URL()), func(m map[string]any) { m["updated"] = time.Now().UTC().Format(time.RFC3339Nano) })
	chownTree(t, dir, attacker)
	before := fileStates(t, cache)

	_, err := trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
	require.Error(t, err, "offline, the rolled-back cache of another user was trusted")
	assert.Contains(t, err.Error(), "uid 12345")

	repo.SetDown(true)
	_, err = trustroot.NewTUF(context.Background(), tufOptions(repo, cache))
	require.Error(t, err, "with the repository down, the rolled-back cache of another user was trusted")

	repo.SetDown(false)
	snap := snapshot(t, newTUF(t, tufOptions(repo, cache)))
	assert.False(t, snap.Info.FromCache)
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snap.Material))
	assert.Equal(t, before, fileStates(t, cache))
}

// Review D, finding 1, without another user: a private cache restored
// from an untrusted job (or altered by a mistake) holds links of the
// user's own. Nothing is written through them; a linked subdirectory is
// refused, a linked file replaced.
func TestTUFPlantedLinksInPrivateCache(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		plant func(t *testing.T, dir, victim, elsewhere string)
		// repaired: the cache is still written where the link was.
		repaired bool
	}{
		"targets/trusted_root.json": {plant: func(t *testing.T, dir, victim, _ string) {
			plantLink(t, victim, filepath.Join(dir, "targets", "trusted_root.json"), os.Geteuid())
		}, repaired: true},
		"targets": {plant: func(t *testing.T, dir, _, elsewhere string) {
			plantLink(t, elsewhere, filepath.Join(dir, "targets"), os.Geteuid())
		}},
		"state": {plant: func(t *testing.T, dir, _, elsewhere string) {
			plantLink(t, elsewhere, filepath.Join(dir, "state"), os.Geteuid())
		}},
		"state/roots": {plant: func(t *testing.T, dir, _, elsewhere string) {
			plantLink(t, elsewhere, filepath.Join(dir, "state", "roots"), os.Geteuid())
		}},
		"state/update.json": {plant: func(t *testing.T, dir, victim, _ string) {
			plantLink(t, victim, filepath.Join(dir, "state", "update.json"), os.Geteuid())
		}, repaired: true},
		"timestamp.json": {plant: func(t *testing.T, dir, victim, _ string) {
			plantLink(t, victim, filepath.Join(dir, "timestamp.json"), os.Geteuid())
		}, repaired: true},
		// Review E, finding 4: the lock file is never followed.
		"lock": {plant: func(t *testing.T, dir, victim, _ string) {
			plantLink(t, victim, filepath.Join(dir, "lock"), os.Geteuid())
		}, repaired: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := tufrepo.New(t, publicGoodRoot)
			base := t.TempDir()
			victim := filepath.Join(base, "victim-file")
			require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
			elsewhere := filepath.Join(base, "elsewhere")
			require.NoError(t, os.Mkdir(elsewhere, 0o700))
			cache := filepath.Join(base, "cache")
			dir := trustroot.RepositoryCacheDir(cache, repo.URL())
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			c.plant(t, dir, victim, elsewhere)

			// A new publication and a root rotation: every file is written.
			repo.RotateRoot()
			repo.Publish(stagingRoot)
			logger, logs := testlog.New()
			opts := tufOptions(repo, cache)
			opts.Logger = logger
			snap := snapshot(t, newTUF(t, opts))
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snap.Material))

			b, err := os.ReadFile(victim)
			require.NoError(t, err)
			assert.True(t, string(b) == "precious\n", "the victim's file was overwritten through a planted link: now %d bytes: %.40q", len(b), b)
			entries, err := os.ReadDir(elsewhere)
			require.NoError(t, err)
			assert.Empty(t, entries, "written through a planted link")
			if c.repaired {
				st, err := os.Lstat(filepath.Join(dir, name))
				require.NoError(t, err)
				assert.True(t, st.Mode().IsRegular(), "the link is replaced by the file: %v", st.Mode())
				assert.NotContains(t, logs.String(), "unusable")
				off := snapshot(t, newTUF(t, offlineOptions(repo, cache, t)))
				assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(off.Material))
			} else {
				st, err := os.Lstat(filepath.Join(dir, name))
				require.NoError(t, err)
				assert.NotZero(t, st.Mode()&fs.ModeSymlink, "the link is refused, left as it is")
				assert.Contains(t, logs.String(), "not a private directory")
			}
		})
	}
}

// A link to a read-only directory, planted as a subdirectory of a private
// cache, is not followed to decide whether the cache can be written: the
// cache stays written, the link refused.
func TestTUFPlantedLinkToReadOnlyDir(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	base := t.TempDir()
	elsewhere := filepath.Join(base, "elsewhere")
	require.NoError(t, os.Mkdir(elsewhere, 0o555))
	cache := filepath.Join(base, "cache")
	dir := trustroot.RepositoryCacheDir(cache, repo.URL())
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	plantLink(t, elsewhere, filepath.Join(dir, "targets"), os.Geteuid())

	repo.Publish(stagingRoot)
	logger, logs := testlog.New()
	opts := tufOptions(repo, cache)
	opts.Logger = logger
	src := newTUF(t, opts)
	assert.NotContains(t, logs.String(), "read-only")
	rec, err := os.ReadFile(recordPath(cache, repo.URL()))
	require.NoError(t, err)
	assert.Contains(t, string(rec), `"timestampVersion":2`, "the cache was not written")
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
}

// Review D, finding 2: a FIFO in place of a file the cache is read from
// never blocks a start, online or offline, in a cache that is written or
// read-only. Where go-tuf would read it, a read-only cache is unusable and
// a written one loses it; elsewhere it reads as missing.
func TestTUFPlantedFIFONoHang(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"timestamp.json", "snapshot.json", "targets.json",
		filepath.Join("targets", "trusted_root.json"),
		filepath.Join("state", "update.json"),
		filepath.Join("state", "roots", "2.root.json"),
		"lock",
	} {
		for _, readOnly := range []bool{false, true} {
			name := file
			if readOnly {
				name += " read-only"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				repo := tufrepo.New(t, publicGoodRoot)
				cache := t.TempDir()
				dir := trustroot.RepositoryCacheDir(cache, repo.URL())
				repo.RotateRoot()
				require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
				fifo := filepath.Join(dir, file)
				require.NoError(t, os.Remove(fifo))
				require.NoError(t, syscall.Mkfifo(fifo, 0o600))
				if readOnly {
					chmodTree(t, cache, 0o555, 0o444)
					t.Cleanup(func() { chmodTree(t, cache, 0o755, 0o644) })
				}
				fifos := []string{fifo}

				// Offline: the cache is read alone.
				returnsPromptly(t, fifos, func() {
					src, err := trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
					if err == nil {
						src.Close()
					}
				})
				// Online, with the repository up and down.
				for _, down := range []bool{false, true} {
					repo.SetDown(down)
					returnsPromptly(t, fifos, func() {
						src, err := trustroot.NewTUF(context.Background(), tufOptions(repo, cache))
						if err == nil {
							src.Close()
						}
						if !down {
							assert.NoError(t, err)
						}
					})
				}
			})
		}
	}
}

// Review D, finding 2: a huge (sparse) metadata file in the cache is not
// read into memory, offline or online. Not parallel: it measures the
// memory allocated.
func TestTUFOversizedMetadataNotRead(t *testing.T) {
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	dir := trustroot.RepositoryCacheDir(cache, repo.URL())
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	const huge = 256 << 20
	require.NoError(t, os.Truncate(filepath.Join(dir, "snapshot.json"), huge))

	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	n := allocated(func() {
		_, err := trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "larger than")
	})
	assert.Less(t, n, uint64(huge/4), "offline read %d bytes of a huge metadata file", n)

	// Online, a cache that is written drops it and updates.
	n = allocated(func() {
		snap := snapshot(t, newTUF(t, tufOptions(repo, cache)))
		assert.False(t, snap.Info.FromCache)
	})
	assert.Less(t, n, uint64(huge/4), "online read %d bytes of a huge metadata file", n)
	st, err := os.Stat(filepath.Join(dir, "snapshot.json"))
	require.NoError(t, err)
	assert.Less(t, st.Size(), int64(1<<20))
}

// A file in the cache that others can write, or that another user owns,
// is not trusted either: go-tuf does not read it, and the cache is
// repaired when it is written.
func TestTUFCacheFileNotPrivate(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	dir := trustroot.RepositoryCacheDir(cache, repo.URL())
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	ts := filepath.Join(dir, "timestamp.json")
	require.NoError(t, os.Chmod(ts, 0o666))

	_, err := trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "can be written by others")

	snap := snapshot(t, newTUF(t, tufOptions(repo, cache)))
	assert.False(t, snap.Info.FromCache)
	st, err := os.Stat(ts)
	require.NoError(t, err)
	assert.Zero(t, st.Mode().Perm()&0o022, "written again, private")
	assert.Empty(t, snapshot(t, newTUF(t, offlineOptions(repo, cache, t))).Info.AgeUnknown)
}

// The default cache directory, under the user cache directory, is created
// private and used: online, then offline. Not parallel: it sets the
// environment.
func TestTUFDefaultCacheDirPrivate(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	repo := tufrepo.New(t, publicGoodRoot)
	opts := tufOptions(repo, "")
	logger, logs := testlog.New()
	opts.Logger = logger
	require.NoError(t, newTUF(t, opts).Close())
	assert.NotContains(t, logs.String(), "level=WARN")

	cache := trustroot.DefaultCacheDir()
	require.True(t, strings.HasPrefix(cache, home), cache)
	for _, d := range []string{cache, trustroot.RepositoryCacheDir(cache, repo.URL())} {
		st, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), d)
	}
	opts = offlineOptions(repo, "", t)
	snap := snapshot(t, newTUF(t, opts))
	assert.True(t, snap.Info.FromCache)
	assert.Empty(t, snap.Info.AgeUnknown)
}
