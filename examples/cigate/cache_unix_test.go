//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/condasigs/condasigs/condasigstest"
)

// foreignUID owns what "another user" made in these tests.
const foreignUID = 12345

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making another user's files needs root")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runGateStderr is runGate, with what it wrote to stderr.
func runGateStderr(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// chownTree gives dir, and everything in it, to uid.
func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	must(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	}))
}

// writableBy reports whether uid, neither root nor in the directory's
// group, can create entries in the directory fi describes.
func writableBy(uid int, fi fs.FileInfo) bool {
	if int(fi.Sys().(*syscall.Stat_t).Uid) == uid {
		return fi.Mode().Perm()&0o300 == 0o300
	}
	return fi.Mode().Perm()&0o003 == 0o003
}

// plantAs writes data at base/rel as uid could: creating the directories
// on the way (mode 0777, owned by uid) where it may write, and giving up
// where it may not. It reports whether the file was planted.
func plantAs(uid int, base, rel string, data []byte) (bool, error) {
	cur := base
	names := strings.Split(rel, "/")
	for i, name := range names {
		next := filepath.Join(cur, name)
		last := i == len(names)-1
		if fi, err := os.Lstat(next); err == nil && !last && fi.IsDir() {
			cur = next
			continue
		}
		fi, err := os.Lstat(cur)
		if err != nil {
			return false, err
		}
		if !writableBy(uid, fi) {
			return false, nil
		}
		if last {
			err = os.WriteFile(next, data, 0o644)
		} else if err = os.Mkdir(next, 0o777); err == nil {
			err = os.Chmod(next, 0o777)
		}
		if err == nil {
			err = os.Lchown(next, uid, uid)
		}
		if err != nil {
			return false, err
		}
		cur = next
	}
	return true, nil
}

// forge turns the one verdict entry under verdicts into one for evil,
// and returns its path under verdicts and its bytes.
func forge(t *testing.T, verdicts, goodSHA, evilSHA, goodAtt, evilAtt string) (string, []byte) {
	t.Helper()
	var entries []string
	must(t, filepath.WalkDir(verdicts, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			entries = append(entries, p)
		}
		return err
	}))
	if len(entries) != 1 {
		t.Fatalf("%d verdict entries, want the honest run's one", len(entries))
	}
	b, err := os.ReadFile(entries[0])
	must(t, err)
	f := strings.ReplaceAll(string(b), goodSHA, evilSHA)
	f = strings.ReplaceAll(f, goodAtt, evilAtt)
	f = strings.ReplaceAll(f, "good-1.0-0.conda", "evil-1.0-0.conda") // same length: netstrings hold
	// The entry's name is the SHA-256 of its first two lines.
	i := strings.IndexByte(f, '\n')
	j := strings.IndexByte(f[i+1:], '\n')
	sum := sha256.Sum256([]byte(f[:i+1+j+1]))
	name := hex.EncodeToString(sum[:])
	return name[:2] + "/" + name, []byte(f)
}

// The review's attack on a cache directory in a sticky directory such as
// /tmp: cigate once checked <cache-dir>/verdicts before it existed (which
// passes) and never created it nor checked it again, so another user
// created it while cigate ran and planted a verdict forged for a package
// that fails. cigate now creates the directories, private, before any
// request, and checks them then: the other user finds them made and
// cannot write in them.
func TestCacheDirMadeBeforeUse(t *testing.T) {
	needRoot(t)
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	chURL := ch.Serve(t)
	target, err := url.Parse(chURL)
	must(t, err)
	// The attack runs as the proxy sees cigate's first request.
	var mu sync.Mutex
	var attack func()
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if attack != nil {
			attack()
			attack = nil
		}
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	ch.Add(t, condasigstest.Package{Filename: "good-1.0-0.conda", Signer: ss, TargetChannel: proxy.URL})
	ch.Add(t, condasigstest.Package{Filename: "evil-1.0-0.conda", Signer: ss, ReplayOf: "good-1.0-0.conda"})
	dir := t.TempDir()
	root := filepath.Join(dir, "trusted_root.json")
	must(t, os.WriteFile(root, ss.TrustedRootJSON(t), 0o644))
	e := env{ch: ch, dir: dir, flags: []string{"-trusted-root", root,
		"-identity", "https://github.com/example/*", "-issuer", condasigstest.DefaultIssuer}}
	line := func(fn string) string {
		return strings.Replace(e.url(fn), chURL, proxy.URL, 1) + "#sha256:" + e.ch.Package(fn).Record.SHA256
	}
	good, evil := e.ch.Package("good-1.0-0.conda").Record, e.ch.Package("evil-1.0-0.conda").Record

	// Control: evil fails without a cache.
	evilLock := e.write(t, "evil.txt", "@EXPLICIT\n"+line("evil-1.0-0.conda")+"\n")
	if code, _ := runGate(t, append(e.flags, evilLock)...); code != exitFail {
		t.Fatal("control: the evil package must fail")
	}
	// The other user runs cigate on the good package with a cache of their
	// own (anyone can: same public channel, trusted root and policy), and
	// forges the verdict for evil from it.
	own := filepath.Join(t.TempDir(), "c")
	goodLock := e.write(t, "good.txt", "@EXPLICIT\n"+line("good-1.0-0.conda")+"\n")
	if code, _ := runGate(t, append(e.flags, "-cache-dir", own, goodLock)...); code != exitPass {
		t.Fatal("the honest run must pass")
	}
	forgedRel, forged := forge(t, filepath.Join(own, "verdicts"), good.SHA256, evil.SHA256, good.AttestationsSHA256, evil.AttestationsSHA256)

	base := t.TempDir()
	must(t, os.Chmod(base, os.ModeSticky|0o777)) // like /tmp
	cacheDir := filepath.Join(base, "cache")
	var planted bool
	var plantErr error
	mu.Lock()
	attack = func() { planted, plantErr = plantAs(foreignUID, base, "cache/verdicts/"+forgedRel, forged) }
	mu.Unlock()
	code, out := runGate(t, append(e.flags, "-cache-dir", cacheDir, evilLock)...)
	mu.Lock()
	defer mu.Unlock()
	if attack != nil || plantErr != nil {
		t.Fatalf("the attack did not run (no request went through the proxy), or failed: %v", plantErr)
	}
	if planted {
		t.Errorf("uid %d could plant a verdict in %s while cigate ran: it was not made private before use", foreignUID, cacheDir)
	}
	if code == exitPass {
		t.Errorf("BYPASS: the evil package passes from a planted verdict: %s", out)
	}
	for _, sub := range []string{"", "verdicts", "sidecars"} {
		fi, err := os.Lstat(filepath.Join(cacheDir, sub))
		must(t, err)
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("%s/%s: %s, uid %d; want a directory of root's, mode 0700", cacheDir, sub, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid)
		}
	}
}

// A cache directory made by another user (or a parent of theirs) turns
// no write of the user running cigate (root here) elsewhere: the review
// planted a symbolic link as sidecars/<xx>, or as sidecars itself, to a
// directory only root can write (/etc/cron.d, say), and cigate wrote there
// a sidecar the channel chose (only its hash is checked), mode 0600, under
// a hex name: a valid cron entry. Such a cache directory is not used at
// all, for sidecars as for verdicts.
func TestForeignCacheDirNotWritten(t *testing.T) {
	needRoot(t)
	payload := []byte("* * * * * root touch /tmp/pwned\n")
	sum := sha256.Sum256(payload)
	key := hex.EncodeToString(sum[:])
	for name, link := range map[string]string{
		"sidecars/<xx> is a link": "sidecars/" + key[:2],
		"sidecars is a link":      "sidecars",
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.ch.Add(t, condasigstest.Package{Filename: "pwn-1.0-0.conda", Sidecar: payload})
			if got := e.ch.Package("pwn-1.0-0.conda").Record.AttestationsSHA256; got != key {
				t.Fatalf("the channel advertises %s, want %s", got, key)
			}
			victim := filepath.Join(t.TempDir(), "cron.d") // stands for /etc/cron.d
			must(t, os.Mkdir(victim, 0o700))
			cacheDir := filepath.Join(t.TempDir(), "shared-cache") // made by the other user
			must(t, os.MkdirAll(filepath.Dir(filepath.Join(cacheDir, link)), 0o777))
			must(t, os.Symlink(victim, filepath.Join(cacheDir, link)))
			chownTree(t, cacheDir, foreignUID)

			lock := e.write(t, "pwn.txt", "@EXPLICIT\n"+e.line("pwn-1.0-0.conda")+"\n")
			_, out, errOut := runGateStderr(t, append(e.flags, "-cache-dir", cacheDir, lock)...)
			must(t, filepath.WalkDir(victim, func(p string, d fs.DirEntry, err error) error {
				if err == nil && p != victim {
					t.Errorf("WRITE REDIRECTED: %s", p)
				}
				return err
			}))
			if !strings.Contains(errOut, "cigate: warning: nothing is cached: ") || !strings.Contains(errOut, "belongs to uid 12345") {
				t.Errorf("no warning that the cache directory is not used: %s", errOut)
			}
			if !strings.Contains(out, "0 verdicts from the cache") {
				t.Errorf("summary: %s", out)
			}
		})
	}
}
