package trustroot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/testlog"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

// recordPath is the record of a repository cache's last update.
func recordPath(cache, repoURL string) string {
	return filepath.Join(trustroot.RepositoryCacheDir(cache, repoURL), "state", "update.json")
}

func offlineOptions(repo *tufrepo.Repo, cache string, t *testing.T) trustroot.TUFOptions {
	opts := tufOptions(repo, cache)
	opts.Offline = true
	opts.HTTPClient = &http.Client{Transport: failingTransport{t}}
	return opts
}

// Item 7: offline, the age is the recorded update's, and only while the
// record names the cached timestamp metadata.
func TestTUFOfflineAgeFromRecord(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	first := snapshot(t, newTUF(t, tufOptions(repo, cache))).Info
	require.Empty(t, first.AgeUnknown)

	snap := snapshot(t, newTUF(t, offlineOptions(repo, cache, t)))
	assert.True(t, snap.Info.FromCache)
	assert.Empty(t, snap.Info.AgeUnknown)
	assert.WithinDuration(t, first.LoadedAt, snap.Info.LoadedAt, time.Second, "the age is the update's, not the read's")

	// A later update that changes nothing moves the age.
	time.Sleep(10 * time.Millisecond)
	again := newTUF(t, tufOptions(repo, cache))
	snap = snapshot(t, newTUF(t, offlineOptions(repo, cache, t)))
	assert.Equal(t, snapshot(t, again).Info.LoadedAt.Truncate(time.Millisecond), snap.Info.LoadedAt.Truncate(time.Millisecond))
	assert.True(t, snap.Info.LoadedAt.After(first.LoadedAt))
}

// Item 7: a missing, unreadable, malformed or mismatched record leaves the
// age unknown (zero LoadedAt, a reason), never 0.
func TestTUFOfflineAgeUnknown(t *testing.T) {
	t.Parallel()
	for name, spoil := range map[string]func(t *testing.T, repo *tufrepo.Repo, cache string){
		"deleted": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			require.NoError(t, os.Remove(recordPath(cache, repo.URL())))
		},
		"state directory deleted": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			require.NoError(t, os.Remove(recordPath(cache, repo.URL())))
			// The rotated roots, if any, would be gone as well; there are none.
			require.NoError(t, os.RemoveAll(filepath.Dir(recordPath(cache, repo.URL()))))
		},
		"malformed": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			require.NoError(t, os.WriteFile(recordPath(cache, repo.URL()), []byte("{not json"), 0o600))
		},
		"unreadable": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			p := recordPath(cache, repo.URL())
			require.NoError(t, os.Remove(p))
			require.NoError(t, os.Mkdir(p, 0o700))
		},
		"names another timestamp": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			editRecord(t, recordPath(cache, repo.URL()), func(r map[string]any) {
				r["timestampSHA256"] = strings.Repeat("0", 64)
			})
		},
		"names another version": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			editRecord(t, recordPath(cache, repo.URL()), func(r map[string]any) { r["timestampVersion"] = 99 })
		},
		"in the future": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			editRecord(t, recordPath(cache, repo.URL()), func(r map[string]any) {
				r["updated"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			})
		},
		"later than the timestamp's expiry": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			// Within the allowed clock skew, but after the signed expiry:
			// no update could have accepted that timestamp then.
			expires := tufrepo.ExpiresIn(2 * time.Minute)
			repo.PublishExpiring(publicGoodRoot, expires)
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			editRecord(t, recordPath(cache, repo.URL()), func(r map[string]any) {
				r["updated"] = expires.Add(time.Minute).Format(time.RFC3339)
			})
		},
		"left by an older update": func(t *testing.T, repo *tufrepo.Repo, cache string) {
			// A record of an earlier update beside metadata a later one left.
			p := recordPath(cache, repo.URL())
			old, err := os.ReadFile(p)
			require.NoError(t, err)
			repo.Publish(stagingRoot)
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			require.NoError(t, os.WriteFile(p, old, 0o600))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := tufrepo.New(t, publicGoodRoot)
			cache := t.TempDir()
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			spoil(t, repo, cache)

			logger, logs := testlog.New()
			opts := offlineOptions(repo, cache, t)
			opts.Logger = logger
			info := snapshot(t, newTUF(t, opts)).Info
			assert.True(t, info.FromCache)
			assert.True(t, info.LoadedAt.IsZero(), "an unknown age must not read as a time: %s", info.LoadedAt)
			assert.NotEmpty(t, info.AgeUnknown)
			assert.Contains(t, logs.String(), "age of the cached trusted root is unknown")

			// Online, the age is known again, and so is the cache's after.
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			info = snapshot(t, newTUF(t, offlineOptions(repo, cache, t))).Info
			assert.Empty(t, info.AgeUnknown)
			assert.WithinDuration(t, time.Now(), info.LoadedAt, time.Minute)
		})
	}
}

func editRecord(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var r map[string]any
	require.NoError(t, json.Unmarshal(b, &r))
	edit(r)
	b, err = json.Marshal(r)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// Item 7: the fallback after a failed update reports the cache's age too.
func TestTUFFallbackAgeFromRecord(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	first := snapshot(t, newTUF(t, tufOptions(repo, cache))).Info
	repo.SetDown(true)
	info := snapshot(t, newTUF(t, tufOptions(repo, cache))).Info
	assert.True(t, info.FromCache)
	assert.WithinDuration(t, first.LoadedAt, info.LoadedAt, time.Second)

	require.NoError(t, os.Remove(recordPath(cache, repo.URL())))
	info = snapshot(t, newTUF(t, tufOptions(repo, cache))).Info
	assert.True(t, info.FromCache)
	assert.True(t, info.LoadedAt.IsZero())
	assert.NotEmpty(t, info.AgeUnknown)
}

// Item 8: one directory per repository URL.
func TestRepositoryCacheDir(t *testing.T) {
	t.Parallel()
	dir := func(u string) string { return trustroot.RepositoryCacheDir("/c", u) }
	for _, pair := range [][2]string{
		{"http://x/r", "https://x/r"},
		{"https://x/a-b", "https://x/a/b"},
		{"https://x:8443/r", "https://x-8443/r"},
		{"https://x/r", "https://x/R"},
		{"https://x/r", "https://x/r?v=2"},
		{"https://x/a%2Fb", "https://x/a/b"},
		{"https://x/r", "https://x/r#f"},
	} {
		assert.NotEqual(t, dir(pair[0]), dir(pair[1]), "%s and %s share a cache directory", pair[0], pair[1])
	}
	for _, pair := range [][2]string{
		{"https://x/r", "https://x/r/"},
		{"https://x/r", "HTTPS://X/r"},
		{"https://x/r", "https://x:443/r"},
		{"http://x/r", "http://x:80/r"},
		{"", tuf.DefaultMirror},
	} {
		assert.Equal(t, dir(pair[0]), dir(pair[1]), "%s and %s are one repository", pair[0], pair[1])
	}

	d := dir("https://user:secret@tuf.example.com/t/tok123/repo?key=hidden")
	assert.Equal(t, "/c", filepath.Dir(d), "one directory below the cache")
	name := filepath.Base(d)
	assert.True(t, strings.HasPrefix(name, "tuf.example.com-t-redacted-repo-redacted-"), name)
	for _, s := range []string{"secret", "tok123", "hidden", "user"} {
		assert.NotContains(t, name, s)
	}
	assert.Regexp(t, `^tuf-repo-cdn\.sigstore\.dev-[0-9a-f]{32}$`, filepath.Base(dir(tuf.DefaultMirror)))
	for _, u := range []string{"https://x/../..", "https://../", ":::", "https://x/" + strings.Repeat("a/", 100)} {
		name := filepath.Base(dir(u))
		assert.NotContains(t, []string{".", ".."}, name)
		assert.NotContains(t, name, string(filepath.Separator))
		assert.LessOrEqual(t, len(name), 48+1+32, u)
	}
}

// Item 8: two repositories whose URLs the old layout mapped to one
// directory (https://host/a-b and https://host/a/b) keep their own
// metadata, roots and ages side by side.
func TestTUFCacheDirsDoNotCollide(t *testing.T) {
	t.Parallel()
	a, b := tufrepo.New(t, publicGoodRoot), tufrepo.New(t, stagingRoot)
	mux := http.NewServeMux()
	for prefix, repo := range map[string]*tufrepo.Repo{"/a-b": a, "/a/b": b} {
		u, err := url.Parse(repo.URL())
		require.NoError(t, err)
		mux.Handle(prefix+"/", http.StripPrefix(prefix, httputil.NewSingleHostReverseProxy(u)))
	}
	front := httptest.NewServer(mux)
	t.Cleanup(front.Close)
	cache := t.TempDir()
	open := func(repo *tufrepo.Repo, path string, offline bool) *trustroot.Snapshot {
		opts := tufOptions(repo, cache)
		opts.RepositoryURL = front.URL + path
		if offline {
			opts.Offline = true
			opts.HTTPClient = &http.Client{Transport: failingTransport{t}}
		}
		return snapshot(t, newTUF(t, opts))
	}
	open(a, "/a-b", false)
	time.Sleep(20 * time.Millisecond)
	bAt := open(b, "/a/b", false).Info.LoadedAt

	snapA, snapB := open(a, "/a-b", true), open(b, "/a/b", true)
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapA.Material))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapB.Material))
	assert.True(t, snapA.Info.LoadedAt.Before(bAt), "a reports its own age, not b's")
	assert.NotEqual(t, trustroot.RepositoryCacheDir(cache, front.URL+"/a-b"), trustroot.RepositoryCacheDir(cache, front.URL+"/a/b"))
}

// Item 8: a cache of the old layout is not read; offline says where it is.
func TestTUFLegacyCacheNotRead(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	legacy := filepath.Join(cache, tuf.URLToPath(repo.URL()))
	require.NoError(t, os.Rename(trustroot.RepositoryCacheDir(cache, repo.URL()), legacy))

	_, err := trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cache is empty or expired")
	assert.Contains(t, err.Error(), legacy+", the cache of an earlier condasigs release, is no longer read")
}

// Review E, finding 3: the hint about a cache of the old layout, whose
// directory is named after the whole URL, never prints the credentials
// the URL holds (user information, a /t/<token>/ segment, a query): the
// directory is then not named.
func TestTUFLegacyCacheHintRedacted(t *testing.T) {
	t.Parallel()
	// The names of the cases, which name the test's directories, hold no
	// credentials.
	for name, u := range map[string]string{
		"user information": "http://user:secret@127.0.0.1:1/repo",
		"token":            "http://127.0.0.1:1/t/tok123/repo",
		"query":            "http://127.0.0.1:1/repo?key=secret",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cache := t.TempDir()
			legacy := filepath.Join(cache, tuf.URLToPath(u))
			require.NoError(t, os.Mkdir(legacy, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(legacy, "timestamp.json"), []byte("{}"), 0o600))
			_, err := trustroot.NewTUF(context.Background(), trustroot.TUFOptions{
				RepositoryURL: u, Root: publicGoodRoot, CacheDir: cache, Offline: true,
				HTTPClient: &http.Client{Transport: failingTransport{t}},
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cache is empty or expired")
			assert.Contains(t, err.Error(), "an older cache layout")
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "tok123")
		})
	}
}

// fileStates records every file and directory under dir: mode, size,
// modification time and content.
func fileStates(t *testing.T, dir string) map[string]string {
	t.Helper()
	states := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		s := fmt.Sprintf("%v %d %d", st.Mode(), st.Size(), st.ModTime().UnixNano())
		if st.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s += " " + string(b)
		}
		states[p] = s
		return nil
	}))
	return states
}

// chmodTree sets the mode of every directory and regular file under dir.
func chmodTree(t *testing.T, dir string, dirMode, fileMode os.FileMode) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, dirMode)
		}
		return os.Chmod(p, fileMode)
	}))
}

// Item 10: a read-only cache (mode a-w: the superuser is held to it too,
// and a user without the superuser's rights is refused by the system
// besides) is never written. With the network down its valid metadata is
// used; with the network up, updates are kept in memory.
func TestTUFReadOnlyCache(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	first := snapshot(t, newTUF(t, tufOptions(repo, cache))).Info
	chmodTree(t, cache, 0o555, 0o444)
	t.Cleanup(func() { chmodTree(t, cache, 0o755, 0o644) })
	before := fileStates(t, cache)

	repo.SetDown(true)
	logger, logs := testlog.New()
	opts := tufOptions(repo, cache)
	opts.Logger = logger
	src := newTUF(t, opts)
	snap := snapshot(t, src)
	assert.True(t, snap.Info.FromCache)
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snap.Material))
	assert.WithinDuration(t, first.LoadedAt, snap.Info.LoadedAt, time.Second, "the cache's age")
	assert.Empty(t, snap.Info.AgeUnknown)
	assert.Contains(t, logs.String(), "read-only")
	assert.NotContains(t, logs.String(), "caching in memory")
	require.Error(t, src.LastError())

	// Back up: the update runs in memory; the cache stays as it was.
	repo.SetDown(false)
	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	snap = snapshot(t, src)
	assert.False(t, snap.Info.FromCache)
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snap.Material))

	fresh := newTUF(t, tufOptions(repo, cache))
	assert.False(t, snapshot(t, fresh).Info.FromCache)
	assert.NoError(t, fresh.LastError())
	assert.Equal(t, before, fileStates(t, cache), "a read-only cache was written")

	// Offline reads it too, without writing.
	snap = snapshot(t, newTUF(t, offlineOptions(repo, cache, t)))
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snap.Material))
	assert.Equal(t, before, fileStates(t, cache))
}

// Item 10: an offline start (and a start with the network down) after the
// repository rotated its root, from the initial root alone, walks the
// rotations the cache kept. A rotation the cache did not keep, or one
// altered in it, is not trusted.
func TestTUFOfflineAfterRootRotation(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	src := newTUF(t, tufOptions(repo, cache))
	repo.RotateRoot()
	repo.Publish(stagingRoot)
	repo.RotateRoot()
	require.NoError(t, src.Refresh(context.Background()))
	require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
	require.NoError(t, src.Close())

	roots := filepath.Join(trustroot.RepositoryCacheDir(cache, repo.URL()), "state", "roots")
	for _, v := range []string{"2", "3"} {
		require.FileExists(t, filepath.Join(roots, v+".root.json"))
	}
	offline := snapshot(t, newTUF(t, offlineOptions(repo, cache, t)))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(offline.Material))
	assert.Empty(t, offline.Info.AgeUnknown)

	repo.SetDown(true)
	down := snapshot(t, newTUF(t, tufOptions(repo, cache)))
	assert.True(t, down.Info.FromCache)
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(down.Material))

	// A read-only cache after the rotation serves as well.
	chmodTree(t, cache, 0o555, 0o444)
	t.Cleanup(func() { chmodTree(t, cache, 0o755, 0o644) })
	ro := snapshot(t, newTUF(t, tufOptions(repo, cache)))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(ro.Material))
	chmodTree(t, cache, 0o755, 0o644)

	// An altered rotation ends the chain before it: offline fails closed.
	p := filepath.Join(roots, "3.root.json")
	good, err := os.ReadFile(p)
	require.NoError(t, err)
	bad := append([]byte(nil), good...)
	bad[bytes.LastIndex(bad, []byte(`"`))-1] ^= 1 // inside the last signature
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	_, err = trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
	require.Error(t, err, "an altered root in the cache was trusted")

	// So does a missing one, and a root of another repository in its place.
	require.NoError(t, os.Remove(p))
	_, err = trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
	require.Error(t, err)
	other := tufrepo.New(t, publicGoodRoot)
	other.RotateRoot()
	require.NoError(t, os.WriteFile(p, other.RotateRoot(), 0o644))
	_, err = trustroot.NewTUF(context.Background(), offlineOptions(repo, cache, t))
	require.Error(t, err, "a root of another repository was trusted")

	// Online, the walk is downloaded again and the cache repaired.
	repo.SetDown(false)
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).LastError())
	snap := snapshot(t, newTUF(t, offlineOptions(repo, cache, t)))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snap.Material))
}

// The environment of the child run of TestTUFReadOnlyCacheChild.
const (
	envROCache = "CONDASIGS_TEST_RO_CACHE"
	envROURL   = "CONDASIGS_TEST_RO_URL"
	envRORoot  = "CONDASIGS_TEST_RO_ROOT"
)

// Item 10, with real permissions: as root, the test binary is run again as
// nobody against a cache root owned and left writable for its owner (mode
// 0755/0644), so that the mode check plays no part and only the system
// refuses the writes. Online and offline (review E, finding 2), the cache
// is said to be read-only, as root's. As any other user it is skipped: TestTUFReadOnlyCache
// then meets real permissions itself.
func TestTUFReadOnlyCacheOtherUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the test binary as nobody; TestTUFReadOnlyCache meets real permissions as this user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found; TestTUFReadOnlyCache covers the read-only cache by its mode")
	}
	exe, err := os.Executable()
	require.NoError(t, err)

	repo := tufrepo.New(t, publicGoodRoot)
	// A directory nobody can enter and read, but not write.
	base := t.TempDir()
	for d := base; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	cache := filepath.Join(base, "cache")
	require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
	chmodTree(t, cache, 0o755, 0o644)
	bin := filepath.Join(base, "trustroot.test")
	b, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	rootFile := filepath.Join(base, "root.json")
	require.NoError(t, os.WriteFile(rootFile, repo.Root(), 0o644))
	before := fileStates(t, cache)

	repo.SetDown(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "-test.run=^TestTUFReadOnlyCacheChild$", "-test.v", "-test.count=1")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), envROCache+"="+cache, envROURL+"="+repo.URL(), envRORoot+"="+rootFile, "TMPDIR="+os.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "--- PASS: TestTUFReadOnlyCacheChild", "%s", out)
	assert.Equal(t, before, fileStates(t, cache), "the cache was written")
}

// TestTUFReadOnlyCacheChild is the unprivileged half of
// TestTUFReadOnlyCacheOtherUser; alone, it is skipped.
func TestTUFReadOnlyCacheChild(t *testing.T) {
	cache := os.Getenv(envROCache)
	if cache == "" {
		t.Skip("run by TestTUFReadOnlyCacheOtherUser")
	}
	require.NotZero(t, os.Geteuid(), "the child must not be root")
	dir := trustroot.RepositoryCacheDir(cache, os.Getenv(envROURL))
	_, err := os.CreateTemp(dir, "probe-*")
	require.Error(t, err, "the cache must be read-only to this user")
	st, err := os.Stat(dir)
	require.NoError(t, err)
	require.NotZero(t, st.Mode().Perm()&0o200, "the mode lets its owner write: only the system refuses")

	root, err := os.ReadFile(os.Getenv(envRORoot))
	require.NoError(t, err)
	logger, logs := testlog.New()
	src, err := trustroot.NewTUF(context.Background(), trustroot.TUFOptions{
		RepositoryURL: os.Getenv(envROURL), Root: root, CacheDir: cache,
		RefreshInterval: -1, Fetch: fastFetch, Logger: logger,
	})
	require.NoError(t, err, "a read-only cache with the network down")
	defer src.Close()
	snap := snapshot(t, src)
	assert.True(t, snap.Info.FromCache)
	assert.Empty(t, snap.Info.AgeUnknown)
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snap.Material))
	assert.Contains(t, logs.String(), "read-only")
	assert.Contains(t, logs.String(), "it belongs to root")

	// Review E, finding 2: offline, the cache of root's is said to be
	// read-only too.
	offLogger, offLogs := testlog.New()
	off, err := trustroot.NewTUF(context.Background(), trustroot.TUFOptions{
		RepositoryURL: os.Getenv(envROURL), Root: root, CacheDir: cache,
		Offline: true, Logger: offLogger,
	})
	require.NoError(t, err, "offline, a read-only cache of root's")
	defer off.Close()
	assert.True(t, snapshot(t, off).Info.FromCache)
	assert.Contains(t, offLogs.String(), "read-only", "offline, the notice of a cache of root's is missing")
	assert.Contains(t, offLogs.String(), "it belongs to root")
}

// Item 7: a CI cache that saves and restores the repository's directory
// alone keeps the cache's age: the record is inside it.
func TestTUFRepositoryDirAlone(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	first := snapshot(t, newTUF(t, tufOptions(repo, cache))).Info
	restored := t.TempDir()
	require.NoError(t, os.CopyFS(trustroot.RepositoryCacheDir(restored, repo.URL()), os.DirFS(trustroot.RepositoryCacheDir(cache, repo.URL()))))

	info := snapshot(t, newTUF(t, offlineOptions(repo, restored, t))).Info
	assert.Empty(t, info.AgeUnknown)
	assert.True(t, first.LoadedAt.Equal(info.LoadedAt), "the age of the update, %s, not %s", first.LoadedAt, info.LoadedAt)
}
