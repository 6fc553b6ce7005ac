//go:build unix

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
)

// foreignUID owns what "another user" made in these tests.
const foreignUID = 12345

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making another user's files needs root")
	}
}

// chownTree gives dir and everything in it to uid, directories with mode
// 0755 and files 0644: readable by all, writable by that user alone.
func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	}))
}

// forgeVerdict turns the one cached verdict, that of the good package,
// into an entry for the evil one, as someone who can write the cache
// would: the same evidence with the evil package's digests, stored under
// the name of its key.
func forgeVerdict(t *testing.T, verdicts string, good, evil fetch.Record) {
	t.Helper()
	var entries []string
	require.NoError(t, filepath.WalkDir(verdicts, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			entries = append(entries, p)
		}
		return err
	}))
	require.Len(t, entries, 1, "the honest run cached one verdict")
	b, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	forged := strings.ReplaceAll(string(b), good.SHA256, evil.SHA256)
	forged = strings.ReplaceAll(forged, good.AttestationsSHA256, evil.AttestationsSHA256)
	require.NotEqual(t, string(b), forged)
	// The entry's name is the SHA-256 of its first two lines: the header
	// and the key.
	i := strings.IndexByte(forged, '\n')
	j := strings.IndexByte(forged[i+1:], '\n')
	require.True(t, i > 0 && j > 0, "entry format")
	sum := sha256.Sum256([]byte(forged[:i+1+j+1]))
	name := hex.EncodeToString(sum[:])
	require.NoError(t, os.MkdirAll(filepath.Join(verdicts, name[:2]), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(verdicts, name[:2], name), []byte(forged), 0o600))
}

// Another user's cache directory, readable but not writable by others, is
// not trusted for verdicts: a verdict forged in it for a package that
// fails must not make it pass. The attack of the review: honest verdict,
// edited to the malicious digest, directory mode 0755.
func TestVerifyEnvForeignCacheNotTrusted(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	vc := newVirtualChannel(t, dir)
	ss, ch := vc.ss, vc.ch
	cache := filepath.Join(dir, "cache")
	const name = "demo-1.0-0.conda"
	run := func(sha string, extra ...string) (int, string, string) {
		t.Helper()
		return vc.verifyEnvJSON(t, dir, name, sha, extra...)
	}

	good := ch.Add(t, condasigstest.Package{Filename: name, Signer: ss})
	code, out, errOut := run(good.SHA256, "--cache-dir", cache)
	require.Equal(t, exitOK, code, out+errOut)

	// The channel now serves other bytes with the good package's bundle
	// replayed: verified afresh, the package fails.
	evil := ch.Add(t, condasigstest.Package{Filename: name, Data: []byte("malicious\n"), Signer: ss, ReplayOf: name})
	later := time.Now().Add(time.Hour) // a new Last-Modified, whatever the clock's resolution
	require.NoError(t, os.Chtimes(filepath.Join(ch.Dir, "linux-64", "repodata.json"), later, later))
	code, out, errOut = run(evil.SHA256, "--no-cache")
	require.Equal(t, exitFail, code, out+errOut)

	forgeVerdict(t, filepath.Join(cache, "verdicts"), good, evil)
	// Control: from a private directory, the forged verdict is believed (a
	// cache is trusted by whoever owns it). Otherwise this test would
	// prove nothing.
	code, out, errOut = run(evil.SHA256, "--cache-dir", cache)
	require.Equal(t, exitOK, code, "the forgery works in a trusted cache: %s%s", out, errOut)
	var doc envDoc
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Packages, 1)
	require.True(t, doc.Packages[0].Cached)

	// The same directory, made by another user: not trusted.
	chownTree(t, cache, foreignUID)
	code, out, errOut = run(evil.SHA256, "--cache-dir", cache)
	assert.Equal(t, exitFail, code, "the forged verdict is not read: %s%s", out, errOut)
	assert.Contains(t, out, `"outcome": "fail"`)
	assert.Equal(t, 1, strings.Count(errOut, "condasigs: warning:"), "one warning: %s", errOut)
	assert.Contains(t, errOut, "the cache directory "+cache+" belongs to uid 12345, not to you (uid 0)")
	assert.Contains(t, errOut, "are not used")
	assert.Contains(t, errOut, "to use them: remove it (rm -rf "+cache+"), or use a directory of your own")
	require.NoError(t, filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			fi, err := os.Lstat(p)
			require.NoError(t, err)
			assert.EqualValues(t, foreignUID, fi.Sys().(*syscall.Stat_t).Uid, "nothing written in another user's directory: %s", p)
		}
		return err
	}))
}

// openCacheDir trusts a cache directory only when it and the
// subdirectories of the trusted caches pass cachedir.Check; else
// only sidecars are read, and nothing is written.
func TestOpenCacheDir(t *testing.T) {
	private := func(t *testing.T, base string) string {
		dir := filepath.Join(base, "c")
		require.NoError(t, os.Mkdir(dir, 0o700))
		return dir
	}
	foreignSub := func(sub string) func(*testing.T, string) string {
		return func(t *testing.T, base string) string {
			dir := private(t, base)
			require.NoError(t, os.Mkdir(filepath.Join(dir, sub), 0o700))
			require.NoError(t, os.Chown(filepath.Join(dir, sub), foreignUID, foreignUID))
			return dir
		}
	}
	cases := []struct {
		name    string
		root    bool
		layout  func(t *testing.T, base string) string
		trusted bool
		warning string
		fix     string // in the warning, when set
	}{
		{name: "private", layout: private, trusted: true},
		{name: "new", trusted: true, layout: func(t *testing.T, base string) string { return filepath.Join(base, "new", "c") }},
		{name: "group-writable", warning: "others can write the cache directory", layout: func(t *testing.T, base string) string {
			dir := private(t, base)
			require.NoError(t, os.Chmod(dir, 0o770))
			return dir
		}},
		// Others may have planted entries in it: a chmod would keep them.
		{name: "world-writable", warning: "others can write the cache directory", fix: "to use them: rm -rf ", layout: func(t *testing.T, base string) string {
			dir := private(t, base)
			require.NoError(t, os.Chmod(dir, 0o777))
			return dir
		}},
		{name: "world-writable sidecars", warning: "c/sidecars (mode", fix: "/c/sidecars (others may have planted", layout: func(t *testing.T, base string) string {
			dir := private(t, base)
			require.NoError(t, os.Mkdir(filepath.Join(dir, "sidecars"), 0o700))
			require.NoError(t, os.Chmod(filepath.Join(dir, "sidecars"), 0o777))
			return dir
		}},
		// Nothing can be planted below a directory of the user's through a
		// writable parent: the mode is the fix.
		{name: "world-writable parent", warning: "no sticky bit", fix: "to use them: chmod go-w ", layout: func(t *testing.T, base string) string {
			require.NoError(t, os.Chmod(base, 0o777))
			return private(t, base)
		}},
		{name: "foreign", root: true, warning: "belongs to uid 12345", layout: func(t *testing.T, base string) string {
			dir := private(t, base)
			chownTree(t, dir, foreignUID)
			return dir
		}},
		{name: "foreign verdicts", root: true, warning: "c/verdicts belongs to uid 12345", layout: foreignSub("verdicts")},
		{name: "foreign repodata", root: true, warning: "c/repodata belongs to uid 12345", layout: foreignSub("repodata")},
		{name: "foreign sidecars", root: true, warning: "c/sidecars belongs to uid 12345", layout: foreignSub("sidecars")},
		// Planted while the cache was open to others, it would turn the
		// sidecar writes into any directory.
		{name: "sidecars a foreign link", root: true, warning: "the symbolic link", layout: func(t *testing.T, base string) string {
			dir := private(t, base)
			other := filepath.Join(base, "cron.d")
			require.NoError(t, os.Mkdir(other, 0o700))
			require.NoError(t, os.Symlink(other, filepath.Join(dir, "sidecars")))
			require.NoError(t, os.Lchown(filepath.Join(dir, "sidecars"), foreignUID, foreignUID))
			return dir
		}},
		{name: "verdicts linked to a foreign directory", root: true, warning: "other) belongs to uid 12345", layout: func(t *testing.T, base string) string {
			dir := private(t, base)
			other := filepath.Join(base, "other")
			require.NoError(t, os.Mkdir(other, 0o755))
			require.NoError(t, os.Chown(other, foreignUID, foreignUID))
			require.NoError(t, os.Symlink(other, filepath.Join(dir, "verdicts")))
			return dir
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root {
				needRoot(t)
			}
			dir := c.layout(t, t.TempDir())
			existed := map[string]bool{}
			for _, sub := range []string{"verdicts", "repodata", "sidecars"} {
				_, err := os.Lstat(filepath.Join(dir, sub))
				existed[sub] = err == nil
			}
			caches, warning := openCacheDir(dir)
			if c.trusted {
				assert.NotNil(t, caches.sidecars)
				assert.NotNil(t, caches.verdicts)
				assert.Equal(t, filepath.Join(dir, "repodata"), caches.repodata)
				assert.Empty(t, warning)
				fi, err := os.Stat(dir)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "created private")
				for _, sub := range []string{"verdicts", "repodata", "sidecars"} {
					fi, err := os.Lstat(filepath.Join(dir, sub))
					require.NoError(t, err)
					assert.Equal(t, os.ModeDir|0o700, fi.Mode(), "%s created private, before use", sub)
				}
				return
			}
			assert.Contains(t, warning, c.warning)
			assert.Contains(t, warning, "to use them: ")
			if c.fix != "" {
				assert.Contains(t, warning, c.fix)
			}

			assert.Nil(t, caches.verdicts)
			assert.Empty(t, caches.repodata)
			require.NotNil(t, caches.sidecars)
			require.NoError(t, caches.sidecars.Put(context.Background(), "abcdef", []byte("x")))
			assert.NoDirExists(t, filepath.Join(dir, "sidecars", "ab"), "nothing written")
			for sub, existed := range existed {
				if !existed {
					assert.NoDirExists(t, filepath.Join(dir, sub), "nothing created in a directory that fails")
				}
			}
		})
	}
}

// A private cache the user cannot write is read, and said so.
func TestOpenCacheDirReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anyway")
	}
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "verdicts"), 0o700))
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	caches, warning := openCacheDir(dir)
	assert.Equal(t, "the cache directory "+dir+" is not writable; reading it only", warning)
	assert.NotNil(t, caches.verdicts, "read")
	// The others are missing, and cannot appear: nothing to read.
	assert.Nil(t, caches.sidecars)
	assert.Empty(t, caches.repodata)
}

// The review's scenario: the cache directory was once writable by others
// (made with umask 000, or opened by a CI step), and condasigs refused it.
// Meanwhile another user planted a verdict, forged for a package that
// fails, in a subdirectory of their own. However the user then fixes the
// directory, the forgery is not believed: the printed fix removes the
// directory (a chmod would leave what was planted), and a chmod alone, as
// condasigs once advised, leaves entries that the verdict cache does not
// read, since they are not the user's.
func TestVerifyEnvPlantedVerdictAfterFix(t *testing.T) {
	needRoot(t)
	for _, fix := range []string{"the printed fix", "chmod -R go-w"} {
		t.Run(fix, func(t *testing.T) {
			dir := t.TempDir()
			vc := newVirtualChannel(t, dir)
			ss, ch := vc.ss, vc.ch
			cache := filepath.Join(dir, "cache")
			const name = "demo-1.0-0.conda"
			run := func(sha string, extra ...string) (int, string, string) {
				t.Helper()
				return vc.verifyEnvJSON(t, dir, name, sha, extra...)
			}
			good := ch.Add(t, condasigstest.Package{Filename: name, Signer: ss})
			code, out, errOut := run(good.SHA256, "--cache-dir", cache)
			require.Equal(t, exitOK, code, out+errOut)
			evil := ch.Add(t, condasigstest.Package{Filename: name, Data: []byte("malicious\n"), Signer: ss, ReplayOf: name})
			later := time.Now().Add(time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(ch.Dir, "linux-64", "repodata.json"), later, later))
			code, out, errOut = run(evil.SHA256, "--no-cache")
			require.Equal(t, exitFail, code, out+errOut)

			// The cache is world-writable: refused, and the fix is to remove it.
			verdicts := filepath.Join(cache, "verdicts")
			require.NoError(t, os.Chmod(cache, 0o777))
			require.NoError(t, os.Chmod(verdicts, 0o777))
			code, _, errOut = run(evil.SHA256, "--cache-dir", cache)
			require.Equal(t, exitFail, code)
			assert.Contains(t, errOut, "to use them: rm -rf "+cache+" (others may have planted entries in it)")
			assert.NotContains(t, errOut, "chmod go-w")

			// Another user plants a forged verdict in a subdirectory of theirs.
			before := map[string]bool{}
			require.NoError(t, filepath.WalkDir(verdicts, func(p string, _ fs.DirEntry, err error) error { before[p] = true; return err }))
			forgeVerdict(t, verdicts, good, evil)
			require.NoError(t, filepath.WalkDir(verdicts, func(p string, d fs.DirEntry, err error) error {
				if err != nil || before[p] {
					return err
				}
				mode := os.FileMode(0o666)
				if d.IsDir() {
					mode = 0o777
				}
				require.NoError(t, os.Chmod(p, mode))
				return os.Lchown(p, foreignUID, foreignUID)
			}))

			switch fix {
			case "the printed fix":
				rm := regexp.MustCompile(`to use them: rm -rf (\S+) `)
				for range 5 {
					_, _, errOut = run(evil.SHA256, "--cache-dir", cache)
					m := rm.FindStringSubmatch(errOut)
					if m == nil {
						break
					}
					t.Logf("applying the printed fix: rm -rf %s", m[1])
					require.NoError(t, os.RemoveAll(m[1]))
				}
			default: // what condasigs once advised, to the whole tree
				require.NoError(t, filepath.WalkDir(cache, func(p string, _ fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					fi, err := os.Lstat(p)
					if err != nil {
						return err
					}
					return os.Chmod(p, fi.Mode().Perm()&^0o022)
				}))
			}
			code, out, errOut = run(evil.SHA256, "--cache-dir", cache)
			assert.NotContains(t, errOut, "warning", "the directory is trusted again")
			assert.Equal(t, exitFail, code, "BYPASS: the verdict planted by uid %d is believed: %s", foreignUID, out)
			var doc envDoc
			require.NoError(t, json.Unmarshal([]byte(out), &doc))
			require.Len(t, doc.Packages, 1)
			assert.Equal(t, "fail", doc.Packages[0].Outcome)
		})
	}
}

// The same history: a symbolic link planted while the cache was open to
// others, as sidecars/<xx> or as sidecars itself, outlives a chmod of the
// cache directory, and would turn the sidecar writes of the user (root)
// into any directory, with a payload the channel chose, under a hex name,
// mode 0600: a valid /etc/cron.d entry. The sidecars directory is checked
// like the others, and no write follows a link out of it.
func TestVerifyEnvPlantedSidecarLink(t *testing.T) {
	needRoot(t)
	for _, c := range []struct {
		name    string
		link    string // planted, under the cache directory
		chmod   []string
		warning string // "" when the directory is trusted again
	}{
		// The sidecars directory, still world-writable, is refused.
		{name: "chmod of the cache directory", link: "sidecars/<xx>", chmod: []string{""}, warning: "others can write the cache directory"},
		// All fixed, the link in it is not followed out.
		{name: "chmod of every directory", link: "sidecars/<xx>", chmod: []string{"", "sidecars"}},
		// A link as sidecars, planted by another user, is refused.
		{name: "sidecars a link", link: "sidecars", chmod: []string{""}, warning: "the symbolic link"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			vc := newVirtualChannel(t, dir)
			ch, url, root := vc.ch, vc.url, vc.root
			payload := []byte("* * * * * root touch /tmp/pwned\n")
			rec := ch.Add(t, condasigstest.Package{Filename: "pwn-1.0-0.conda", Sidecar: payload})
			key := rec.AttestationsSHA256

			cache := filepath.Join(dir, "cache")
			require.NoError(t, os.Mkdir(cache, 0o700))
			require.NoError(t, os.Chmod(cache, 0o777))
			victim := filepath.Join(t.TempDir(), "cron.d") // stands for /etc/cron.d
			require.NoError(t, os.Mkdir(victim, 0o700))
			link := filepath.Join(cache, "sidecars")
			if c.link != "sidecars" {
				require.NoError(t, os.Mkdir(link, 0o700))
				require.NoError(t, os.Chmod(link, 0o777))
				link = filepath.Join(link, key[:2])
			}
			// Planted by uid 12345 while the cache was open.
			require.NoError(t, os.Symlink(victim, link))
			require.NoError(t, os.Lchown(link, foreignUID, foreignUID))
			// The user's fix.
			for _, d := range c.chmod {
				require.NoError(t, os.Chmod(filepath.Join(cache, d), 0o755))
			}

			explicit := filepath.Join(dir, "env.txt")
			require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+url+"/linux-64/pwn-1.0-0.conda#"+rec.SHA256+"\n"), 0o644))
			_, _, errOut := runCLI(t, "verify-env", "--trusted-root", root, "--identity", "https://github.com/example/*", "--issuer", "github",
				"--cache-dir", cache, explicit)
			if c.warning == "" {
				assert.NotContains(t, errOut, "warning: ", "trusted")
			} else {
				assert.Contains(t, errOut, c.warning)
			}
			entries, err := os.ReadDir(victim)
			require.NoError(t, err)
			assert.Empty(t, entries, "WRITE REDIRECTED through a link planted by uid %d", foreignUID)
		})
	}
}

// What --keep-downloads keeps gets installed, trusted as verified: a
// directory others can write, where the kept file could be swapped before
// installation, is refused before anything is verified.
func TestVerifyEnvKeepDownloadsNotPrivate(t *testing.T) {
	dir := t.TempDir()
	vc := newVirtualChannel(t, dir)
	ch, url, root := vc.ch, vc.url, vc.root
	honest := ch.Add(t, condasigstest.Package{Filename: "honest-1.0-0.conda", Signer: vc.ss})
	explicit := filepath.Join(dir, "env.txt")
	require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+url+"/linux-64/"+honest.Filename+"\n"), 0o644))
	run := func(keep string) (int, string, string) {
		return runCLI(t, "verify-env", "--trusted-root", root, "--identity", "https://github.com/example/*", "--issuer", "github",
			"--no-cache", "--download-unhashed", "--keep-downloads", keep, explicit)
	}
	for _, c := range []struct {
		name, says string
		root       bool
		layout     func(t *testing.T, base string) string
	}{
		{name: "world-writable", says: "others can write", layout: func(t *testing.T, base string) string {
			keep := filepath.Join(base, "downloads")
			require.NoError(t, os.Mkdir(keep, 0o700))
			require.NoError(t, os.Chmod(keep, 0o777))
			return keep
		}},
		{name: "new in a world-writable directory", says: "no sticky bit", layout: func(t *testing.T, base string) string {
			require.NoError(t, os.Chmod(base, 0o777))
			return filepath.Join(base, "downloads")
		}},
		{name: "another user's", root: true, says: "belongs to uid 12345", layout: func(t *testing.T, base string) string {
			keep := filepath.Join(base, "downloads")
			require.NoError(t, os.Mkdir(keep, 0o755))
			require.NoError(t, os.Chown(keep, foreignUID, foreignUID))
			return keep
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.root {
				needRoot(t)
			}
			keep := c.layout(t, t.TempDir())
			requests := ch.Requests("/linux-64/" + honest.Filename)
			code, out, errOut := run(keep)
			assert.Equal(t, exitProblem, code, out+errOut)
			assert.Empty(t, out, "nothing verified")
			assert.Contains(t, errOut, "--keep-downloads "+keep+": ")
			assert.Contains(t, errOut, c.says)
			assert.Equal(t, requests, ch.Requests("/linux-64/"+honest.Filename), "nothing downloaded")
			_, err := os.Stat(filepath.Join(keep, "linux-64", honest.Filename))
			assert.True(t, os.IsNotExist(err), "nothing kept")
		})
	}
	// Control: a private directory keeps the download.
	keep := filepath.Join(t.TempDir(), "downloads")
	code, out, errOut := run(keep)
	require.Equal(t, exitOK, code, out+errOut)
	assert.FileExists(t, filepath.Join(keep, "linux-64", honest.Filename))
}
