package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/cachedir"
)

// repodataHeader starts a kept repodata document: this line, a JSON line
// of metaLen bytes (padded with spaces) holding its validators, size and
// SHA-256, then the document's bytes as served. A kept copy whose size or
// hash is not the recorded one is removed and downloaded again.
const repodataHeader = "condasigs repodata 2\n"

// metaLen is the length of the metadata line, newline included.
const metaLen = 1024

type repodataMeta struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
}

// repodataName is the name under Options.RepodataDir of the copy of the
// document at u: the hash of the URL, which may hold a token.
func repodataName(u *url.URL) string {
	sum := sha256.Sum256([]byte(u.String()))
	return hex.EncodeToString(sum[:])
}

// openCachedRepodata revalidates the kept copy of the document at u, or
// downloads it and keeps it as it is read, under the size cap limit
// (Options.MaxRepodataSize for repodata.json, less for a shard index).
func (c *Client) openCachedRepodata(ctx context.Context, u *url.URL, limit int64) (io.ReadCloser, error) {
	if err := cachedir.Prepare(c.opts.RepodataDir); err != nil {
		c.log.WarnContext(ctx, "fetch: not keeping repodata: Options.RepodataDir is not fit", "err", err)
		r, err := c.getHTTP(ctx, u, limit, c.opts.Timeout, nil, true)
		if err != nil {
			return nil, err
		}
		return r.body, nil
	}
	name := repodataName(u)
	kept, meta, err := openKept(c.opts.RepodataDir, name, limit, conda.Redact(u.String()))
	if err == nil {
		hdr := http.Header{}
		if meta.ETag != "" {
			hdr.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			hdr.Set("If-Modified-Since", meta.LastModified)
		}
		r, err := c.getHTTP(ctx, u, limit, c.opts.Timeout, hdr, true)
		switch {
		case err != nil:
			kept.Close()
			return nil, err
		case r.notModified:
			c.log.DebugContext(ctx, "condasigs: repodata unchanged", "url", conda.Redact(u.String()))
			return kept, nil
		}
		kept.Close()
		return c.keep(ctx, r, name), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		c.log.DebugContext(ctx, "condasigs: not using the kept repodata", "url", conda.Redact(u.String()), "err", err)
	}
	r, err := c.getHTTP(ctx, u, limit, c.opts.Timeout, nil, true)
	if err != nil {
		return nil, err
	}
	return c.keep(ctx, r, name), nil
}

// openKept checks the kept copy name in dir against its recorded size and
// hash and opens it past its header, under the size cap. The copy is
// read through an [os.Root] of dir, so a symbolic link out of dir is not
// followed; it and dir must be private to the user (checkPrivate), since
// what they hold is trusted. A damaged copy is removed.
func openKept(dir, name string, limit int64, redacted string) (io.ReadCloser, repodataMeta, error) {
	var meta repodataMeta
	root, err := cachedir.OpenRoot(dir)
	if err != nil {
		return nil, meta, err
	}
	defer root.Close()
	// The open never blocks (a FIFO would wait for a writer); the checks
	// are made on the opened file, so that it cannot be swapped in between.
	f, err := root.OpenFile(name, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, meta, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err == nil {
		if perr := cachedir.CheckPrivate(fi); perr != nil {
			err = fmt.Errorf("the kept repodata %s %v", filepath.Join(dir, name), perr)
		}
	}
	if err == nil {
		err = privateDir(root, dir)
	}
	start := int64(len(repodataHeader) + metaLen)
	head := make([]byte, start)
	if err == nil {
		_, err = io.ReadFull(f, head)
	}
	if err == nil && (string(head[:len(repodataHeader)]) != repodataHeader || head[start-1] != '\n') {
		err = errors.New("not a kept repodata document")
	}
	if err == nil {
		err = json.Unmarshal(head[len(repodataHeader):start-1], &meta)
	}
	if err == nil && (meta.Size != fi.Size()-start || meta.Size > limit || (meta.ETag == "" && meta.LastModified == "")) {
		err = errors.New("a kept repodata document of the wrong size, or without validators")
	}
	if err == nil {
		h := sha256.New()
		if _, err = io.Copy(h, f); err == nil && hex.EncodeToString(h.Sum(nil)) != meta.SHA256 {
			err = errors.New("a kept repodata document that does not hash to its recorded SHA-256")
		}
	}
	if err == nil {
		_, err = f.Seek(start, io.SeekStart)
	}
	if err != nil {
		f.Close()
		_ = root.Remove(name) // replaced when downloaded again, anyway
		return nil, meta, err
	}
	return &cappedReader{r: f, remaining: limit, limit: limit, url: redacted, closer: f.Close}, meta, nil
}

// privateDir checks the directory root was opened on: private to the user.
func privateDir(root *os.Root, dir string) error {
	fi, err := root.Stat(".")
	if err != nil {
		return err
	}
	if err := cachedir.CheckPrivate(fi); err != nil {
		return fmt.Errorf("the repodata directory %s %v", dir, err)
	}
	return nil
}

// keep returns r's body, written to name in Options.RepodataDir as it is
// read when the server gave validators to revalidate it with. Nothing is
// kept in a directory that is not private to the user.
func (c *Client) keep(ctx context.Context, r httpBody, name string) io.ReadCloser {
	meta := repodataMeta{ETag: r.etag, LastModified: r.lastModified}
	if meta.ETag == "" && meta.LastModified == "" || len(meta.ETag)+len(meta.LastModified) > metaLen/2 {
		return r.body
	}
	dir := c.opts.RepodataDir
	root, err := cachedir.OpenRoot(dir)
	if err == nil {
		err = privateDir(root, dir)
		if err != nil {
			root.Close()
		}
	}
	if err != nil {
		c.log.WarnContext(ctx, "fetch: cannot keep repodata", "err", err)
		return r.body
	}
	tmp, err := atomicfile.Create(root, name, 0o600)
	if err != nil {
		root.Close()
		c.log.WarnContext(ctx, "fetch: cannot keep repodata", "err", err)
		return r.body
	}
	// The metadata line is written last, over this placeholder.
	if _, err := tmp.Write([]byte(repodataHeader + strings.Repeat(" ", metaLen-1) + "\n")); err != nil {
		tmp.Discard(root)
		root.Close()
		return r.body
	}
	return &keeper{body: r.body, root: root, tmp: tmp, meta: meta, hash: sha256.New()}
}

// maxKeptTail is the most that keeper.Close reads of a body its caller
// left unread.
const maxKeptTail = 64 << 10

// keeper copies what is read from body to tmp, and on Close, if body was
// read whole (a rest of at most maxKeptTail bytes is read then), records
// its size and hash and commits tmp, in root.
type keeper struct {
	body   io.ReadCloser
	root   *os.Root
	tmp    *atomicfile.Temp
	meta   repodataMeta
	hash   hash.Hash
	failed bool
}

func (k *keeper) Read(p []byte) (int, error) {
	n, err := k.body.Read(p)
	if n > 0 && !k.failed {
		k.hash.Write(p[:n])
		k.meta.Size += int64(n)
		if _, werr := k.tmp.Write(p[:n]); werr != nil {
			k.failed = true
		}
	}
	if err != nil && err != io.EOF {
		k.failed = true
	}
	return n, err
}

func (k *keeper) Close() error {
	if !k.failed {
		// The caller may stop at the document's end, before EOF: a short
		// rest (white space) is read. A caller that gave up on the
		// document leaves more, maybe a gigabyte: it is neither read nor
		// kept.
		if n, err := io.Copy(io.Discard, io.LimitReader(k, maxKeptTail+1)); err != nil || n > maxKeptTail {
			k.failed = true
		}
	}
	err := k.body.Close()
	if !k.failed {
		k.meta.SHA256 = hex.EncodeToString(k.hash.Sum(nil))
		line, _ := json.Marshal(k.meta) // strings and a number: cannot fail
		pad := metaLen - 1 - len(line)
		if pad < 0 {
			k.failed = true
		} else if _, werr := k.tmp.WriteAt(append(append(line, strings.Repeat(" ", pad)...), '\n'), int64(len(repodataHeader))); werr != nil {
			k.failed = true
		}
	}
	if k.failed {
		k.tmp.Discard(k.root)
	} else {
		// A failure keeps nothing: the document is downloaded next time.
		_ = k.tmp.Commit(k.root)
	}
	k.root.Close()
	return err
}
