package condasigs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
)

// CodePackageDownloaded is the code of the report reason saying that a
// package was downloaded and its attestations checked against the bytes,
// because its lock entry binds no sha256 (BatchOptions.DownloadUnhashed),
// and whether the bytes were kept.
const CodePackageDownloaded = "package-downloaded"

// downloadUnhashed downloads, at most fetchers at a time, the packages
// whose lock entry binds no sha256, and binds each to the bytes
// downloaded: its attestations are checked against their SHA-256, and
// bytes that contradict the record or the lock entry fail it. With dir,
// the bytes wait in a temporary file there until the verdict (see
// keepDownloads).
func (v *Verifier) downloadUnhashed(ctx context.Context, locked []fetch.LockedPackage, pkgs []Package, fetchers int, dir string) {
	sem := make(chan struct{}, fetchers)
	var wg sync.WaitGroup
	for i := range pkgs {
		p := &pkgs[i]
		if p.lock == nil || p.lock.unbound == nil {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return // VerifyAll reports the cancellation
			}
			v.bindByDownload(ctx, locked[i], p, dir)
		})
	}
	wg.Wait()
}

// bindByDownload downloads one package for downloadUnhashed.
func (v *Verifier) bindByDownload(ctx context.Context, lp fetch.LockedPackage, p *Package, dir string) {
	rec := p.Record
	var kept *keptFile
	if dir != "" {
		var err error
		if kept, err = createKept(dir, rec.Filename); err != nil {
			p.lock.unbound = fmt.Errorf("%w; keeping the download failed: %v", p.lock.unbound, err)
			return
		}
	}
	var w io.Writer
	if kept != nil {
		w = kept.f
	}
	got, err := v.fetcher.DownloadPackage(ctx, p.URL, rec.Size, w)
	if err != nil {
		kept.discard()
		p.lock.unbound = fmt.Errorf("%w; downloading the package to hash it failed: %v", p.lock.unbound, err)
		return
	}
	for _, h := range []struct{ what, want, got string }{
		{"the record's sha256", rec.SHA256, got.SHA256},
		{"the lock file's sha256", lp.SHA256, got.SHA256},
		{"the record's md5", rec.MD5, got.MD5},
		{"the lock file's md5", lp.MD5, got.MD5},
	} {
		if h.want != "" && !strings.EqualFold(h.want, h.got) {
			kept.discard()
			p.lock.unbound, p.lock.mismatch = nil, downloadMismatch(rec.Filename, fmt.Sprintf("hash to %s, not %s (%s)", h.got, strings.ToLower(h.want), h.what))
			return
		}
	}
	if rec.Size > 0 && got.Size != rec.Size {
		kept.discard()
		p.lock.unbound, p.lock.mismatch = nil, downloadMismatch(rec.Filename, fmt.Sprintf("are %d bytes long, not %d (the record's size)", got.Size, rec.Size))
		return
	}
	if kept != nil {
		kept.sha256 = got.SHA256
	}
	p.ArtifactSHA256, p.lock.unbound, p.lock.kept = got.SHA256, nil, kept
	msg := fmt.Sprintf("the lock file binds no sha256, so the package was downloaded and its attestations checked against its bytes (sha256 %s)", got.SHA256)
	sev := policy.SeverityInfo
	switch {
	case kept != nil:
		msg += "; they are kept only if the package does not fail"
	case lp.MD5 == "" && lp.SHA256 == "":
		// The installer checks nothing on such a line: what it downloads
		// later need not be what was verified now.
		sev = policy.SeverityWarning
		msg += "; they were not kept, and the installer checks nothing on a line without a hash: keep them (BatchOptions.DownloadDir) and install that file, or write the lock file with sha256"
	default:
		msg += "; they were not kept: the installer checks the lock file's md5, which these bytes have"
	}
	p.lock.note = &policy.Reason{Rule: policy.RuleLock, Code: CodePackageDownloaded, Severity: sev, Message: msg}
}

func downloadMismatch(filename, what string) *policy.Reason {
	return &policy.Reason{Rule: "artifact", Code: "artifact-mismatch", Severity: policy.SeverityError,
		Message: fmt.Sprintf("the downloaded bytes of %s %s: this is not the package the channel published", filename, what)}
}

// keepDownloads keeps, once verified, the downloads of the packages that
// did not fail, and removes the others. Its reason says where a kept file
// is; a file that cannot be kept turns a pass into a warning.
func keepDownloads(pkgs []Package, results []Result) {
	for i := range pkgs {
		if pkgs[i].lock == nil || pkgs[i].lock.kept == nil {
			continue
		}
		k, rep := pkgs[i].lock.kept, results[i].Report
		if results[i].Err != nil || rep == nil || rep.Outcome == policy.Fail {
			k.discard()
			continue
		}
		path, err := k.keep()
		for j := range rep.Reasons {
			r := &rep.Reasons[j]
			if r.Code != CodePackageDownloaded {
				continue
			}
			if err != nil {
				r.Severity = policy.SeverityWarning
				r.Message = strings.TrimSuffix(r.Message, "; they are kept only if the package does not fail") + "; keeping them failed: " + err.Error()
				if rep.Outcome == policy.Pass {
					rep.Outcome = policy.Warn
				}
				continue
			}
			r.Message = strings.TrimSuffix(r.Message, "; they are kept only if the package does not fail") + "; they are kept at " + path + ": install that file"
		}
	}
}

// keptFile is a package download being written into a directory: to a
// temporary name first, published under the package's file name only
// once its verdict allows.
type keptFile struct {
	root     *os.Root
	dir      string
	tmp      string
	filename string
	sha256   string // of the bytes written, once known
	f        *os.File
	done     bool
}

// createKept starts keeping a download of filename in dir. The file is
// installed later, trusted as it was verified, so dir must be private to
// the user (fetch.PrepareCacheDir creates it, mode 0700, and checks it):
// in a directory others can write, the verified file could be swapped
// before it is installed. Writes are confined to dir (os.Root): a file
// name can name no other place, and a symbolic link planted in dir is not
// followed out of it.
func createKept(dir, filename string) (*keptFile, error) {
	if _, err := fetch.ParseFilename(filename); err != nil {
		return nil, err
	}
	if err := fetch.PrepareCacheDir(dir); err != nil {
		var cde *fetch.CacheDirError
		if errors.As(err, &cde) {
			return nil, fmt.Errorf("the download directory %s is not private (%s), so what is kept there could be swapped before it is installed; keep downloads in a directory of your own that no one else can write",
				dir, cde.Reason)
		}
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // never fails
	tmp := "." + filename + "." + hex.EncodeToString(rnd[:]) + ".part"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		root.Close()
		return nil, err
	}
	return &keptFile{root: root, dir: dir, tmp: tmp, filename: filename, f: f}, nil
}

// keep makes the download durable under its file name and returns its
// path. It never replaces a file: another package of the same file name
// (from another channel, say) kept there already fails this one, unless
// it holds the same bytes.
func (k *keptFile) keep() (string, error) {
	defer k.discard()
	path := filepath.Join(k.dir, k.filename)
	err := k.f.Sync()
	if cerr := k.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = k.root.Link(k.tmp, k.filename)
	}
	if errors.Is(err, fs.ErrExist) {
		if same, herr := k.holds(k.filename); herr == nil && same {
			return path, nil
		}
		return "", fmt.Errorf("%s exists and holds other bytes (another package of that file name?): it is not replaced", path)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// holds reports whether the regular file name in the directory has the
// download's SHA-256.
func (k *keptFile) holds(name string) (bool, error) {
	f, err := k.root.OpenFile(name, os.O_RDONLY, 0) // a private directory: no FIFO of others
	if err != nil {
		return false, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == k.sha256, nil
}

// discard removes the temporary file; a no-op on nil or after keep.
func (k *keptFile) discard() {
	if k == nil || k.done {
		return
	}
	k.f.Close()
	k.root.Remove(k.tmp)
	k.root.Close()
	k.done = true
}
