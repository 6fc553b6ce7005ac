package condasigs

import (
	"context"
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

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// downloadUnhashed downloads, at most fetchers at a time, the packages
// whose lock entry binds no sha256, and binds each to the bytes
// downloaded: its attestations are checked against their SHA-256, and
// bytes that contradict the record or the lock entry fail it. With dir,
// the bytes wait in a temporary file there until the verdict (see
// keepDownloads).
func (v *Verifier) downloadUnhashed(ctx context.Context, locked []lockfile.Package, pkgs []Package, locks []*lockState, fetchers int, dir string) {
	sem := make(chan struct{}, fetchers)
	var wg sync.WaitGroup
	for i := range pkgs {
		p, ls := &pkgs[i], locks[i]
		if ls == nil || ls.unbound == nil {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return // VerifyAll reports the cancellation
			}
			v.bindByDownload(ctx, locked[i], p, ls, dir)
		})
	}
	wg.Wait()
}

// bindByDownload downloads one package for downloadUnhashed.
func (v *Verifier) bindByDownload(ctx context.Context, lp lockfile.Package, p *Package, ls *lockState, dir string) {
	rec := p.Record
	var kept *keptFile
	if dir != "" {
		var err error
		if kept, err = createKept(dir, urlSubdir(p.URL), rec.Filename); err != nil {
			ls.unbound = fmt.Errorf("%w; keeping the download failed: %v", ls.unbound, err)
			return
		}
	}
	var w io.Writer
	if kept != nil {
		w = kept.tmp
	}
	got, err := v.fetcher.DownloadPackage(ctx, p.URL, rec.Size, w)
	if err != nil {
		kept.discard()
		ls.unbound = fmt.Errorf("%w; downloading the package to hash it failed: %v", ls.unbound, err)
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
			ls.unbound, ls.artifact = nil, downloadMismatch(rec.Filename, fmt.Sprintf("hash to %s, not %s (%s)", h.got, strings.ToLower(h.want), h.what))
			return
		}
	}
	if rec.Size > 0 && got.Size != rec.Size {
		kept.discard()
		ls.unbound, ls.artifact = nil, downloadMismatch(rec.Filename, fmt.Sprintf("are %d bytes long, not %d (the record's size)", got.Size, rec.Size))
		return
	}
	if kept != nil {
		kept.sha256 = got.SHA256
		if err := kept.written(); err != nil {
			kept.discard()
			ls.unbound = fmt.Errorf("%w; keeping the download failed: %v", ls.unbound, err)
			return
		}
	}
	p.ArtifactSHA256, ls.unbound, ls.kept = got.SHA256, nil, kept
	ls.download = &policy.Download{SHA256: got.SHA256, Kept: kept != nil, MD5Checked: lp.MD5 != ""}
}

func downloadMismatch(filename, what string) error {
	return fmt.Errorf("the downloaded bytes of %s %s: this is not the package the channel published", filename, what)
}

// keepDownloads keeps, once verified, the downloads of the packages that
// did not fail, and removes the others. Its reason says where a kept file
// is; a file that cannot be kept turns a pass into a warning.
func keepDownloads(locks []*lockState, results []Result) {
	for i := range locks {
		if locks[i] == nil || locks[i].kept == nil {
			continue
		}
		k, rep := locks[i].kept, results[i].Report
		if results[i].Err != nil || rep == nil || rep.Outcome == policy.Fail {
			k.discard()
			continue
		}
		path, err := k.keep()
		for j := range rep.Reasons {
			r := &rep.Reasons[j]
			if r.Code != policy.CodePackageDownloaded {
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
// temporary file first (atomicfile), published as <dir>/<subdir>/<filename>
// only once its verdict allows. Between the download and the verdict it
// holds no file descriptor, so a batch of any size keeps none open.
type keptFile struct {
	dir      string // the directory, symbolic links resolved
	subdir   string
	filename string
	sha256   string // of the bytes written, once known
	tmp      *atomicfile.Temp
	done     bool
}

// createKept starts keeping a download of filename, from subdir, in dir.
// The file is installed later, trusted as it was verified, so dir must be
// private to the user (cachedir.Prepare creates it, mode 0700, and
// checks it), and so must the subdirectory, which may be older: in a
// directory others can write, the verified file could be swapped before
// it is installed. Writes are confined to dir (os.Root): no name can name
// another place, and no symbolic link planted in dir is followed out of
// it. Files are kept by subdir, as a channel lays them out, so that the
// same file name of two platforms cannot collide.
func createKept(dir, subdir, filename string) (*keptFile, error) {
	if _, err := conda.ParseFilename(filename); err != nil {
		return nil, err
	}
	if !validSubdir(subdir) {
		return nil, fmt.Errorf("%q is not a subdir name", subdir)
	}
	if err := cachedir.Prepare(dir); err != nil {
		var cde *cachedir.Error
		if errors.As(err, &cde) {
			return nil, fmt.Errorf("the download directory %s is not private (%s), so what is kept there could be swapped before it is installed; keep downloads in a directory of your own that no one else can write",
				dir, cde.Reason)
		}
		return nil, err
	}
	// The path the system follows, for every later open and every message.
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	k := &keptFile{dir: real, subdir: subdir, filename: filename}
	root, err := k.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := root.Mkdir(subdir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err := k.checkSubdir(root); err != nil {
		return nil, err
	}
	if k.tmp, err = atomicfile.Create(root, filepath.Join(subdir, filename), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// validSubdir reports whether s can name a subdirectory: a conda subdir
// such as "linux-64" or "noarch".
func validSubdir(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func (k *keptFile) open() (*os.Root, error) { return os.OpenRoot(k.dir) }

// checkSubdir refuses a subdirectory that is a link, or not the user's
// alone: it may have been made while the directory was open to others.
func (k *keptFile) checkSubdir(root *os.Root) error {
	fi, err := root.Lstat(k.subdir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", filepath.Join(k.dir, k.subdir))
	}
	if err := cachedir.CheckPrivate(fi); err != nil {
		return fmt.Errorf("%s %v: remove it", filepath.Join(k.dir, k.subdir), err)
	}
	return nil
}

// written syncs and closes the temporary file once the download is in it.
func (k *keptFile) written() error { return k.tmp.Close() }

// keep publishes the download under its file name and returns its path.
// It never replaces a file: another package of the same subdir and file
// name (from another channel) kept there already fails this one, unless
// it is a private regular file of the user holding the same bytes (an
// earlier run's).
func (k *keptFile) keep() (string, error) {
	defer k.discard()
	path := filepath.Join(k.dir, k.subdir, k.filename)
	root, err := k.open()
	if err != nil {
		return "", err
	}
	defer root.Close()
	if err := k.checkSubdir(root); err != nil {
		return "", err
	}
	name := filepath.Join(k.subdir, k.filename)
	err = k.tmp.CommitNew(root)
	k.done = true // CommitNew removed the temporary file
	if errors.Is(err, fs.ErrExist) {
		if err := k.holds(root, name); err != nil {
			return "", fmt.Errorf("%s exists and %v: it is not replaced; remove it", path, err)
		}
		return path, nil
	}
	if err != nil {
		return "", err
	}
	return path, nil
}

// holds says why the file name in the directory is not one to install in
// place of the download: not a regular file of the user that no one else
// can write, or other bytes. Nil means it holds the download's bytes.
func (k *keptFile) holds(root *os.Root, name string) error {
	fi, err := root.Lstat(name) // a FIFO is refused here, never opened
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return errors.New("is not a regular file")
	}
	if err := cachedir.CheckPrivate(fi); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if ofi, err := f.Stat(); err != nil || !os.SameFile(fi, ofi) {
		return errors.New("changed while it was read")
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != k.sha256 {
		return errors.New("holds other bytes (another package of that file name?)")
	}
	return nil
}

// discard removes the temporary file; a no-op on nil or after keep.
func (k *keptFile) discard() {
	if k == nil || k.done {
		return
	}
	k.done = true
	root, err := k.open()
	if err != nil {
		k.tmp.Discard(nil)
		return
	}
	k.tmp.Discard(root)
	root.Close()
}

// urlSubdir is the subdir of a package URL, "" for one that has none.
func urlSubdir(packageURL string) string {
	loc, err := conda.SplitPackageURL(packageURL)
	if err != nil {
		return ""
	}
	return loc.Subdir
}
