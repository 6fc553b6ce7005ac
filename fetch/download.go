package fetch

import (
	"context"
	"crypto/md5" //nolint:gosec // conda records and lock files carry md5; it is compared, never trusted alone
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/condasigs/condasigs/conda"
)

// Defaults of package downloads.
const (
	// defaultMaxPackageSize caps a package download whose record gives no
	// size: 8 GiB, above the largest conda packages in use.
	defaultMaxPackageSize = 8 << 30
	// defaultDownloadTimeout bounds one package download, retries and body
	// included.
	defaultDownloadTimeout = 30 * time.Minute
)

// PackageFile is what a download found of a package file.
type PackageFile struct {
	// Size is the number of bytes read.
	Size int64
	// SHA256 and MD5 are the hashes of those bytes, lowercase hex.
	SHA256 string
	MD5    string
}

// DownloadPackage streams the package file at packageURL into w and returns
// its size and hashes; with a nil w the bytes are only hashed. Nothing is
// held in memory or written anywhere else.
//
// size is the record's size: when positive, a body longer than size bytes
// fails with [KindTooLarge] as soon as the extra byte arrives, so a hostile
// server cannot make the download longer than what the channel published.
// An 8 GiB cap applies to every download, whatever the record says. The download is
// bounded by 30 minutes and the caller's ctx, not by
// Options.Timeout, which is sized for sidecars. Retries happen only
// before the body is read.
//
// The caller compares the result with the record (and the lock file): a
// download proves only what this server sent this time.
func (c *Client) DownloadPackage(ctx context.Context, packageURL string, size int64, w io.Writer) (PackageFile, error) {
	limit := int64(defaultMaxPackageSize)
	if size > 0 {
		limit = min(size, limit)
	}
	u, err := c.checkURL(packageURL)
	if err != nil {
		return PackageFile{}, err
	}
	var body io.ReadCloser
	if u.Scheme == "file" {
		body, err = openFile(u, limit)
	} else {
		body, err = c.openHTTP(ctx, u, limit, defaultDownloadTimeout)
	}
	if err != nil {
		return PackageFile{}, err
	}
	defer body.Close()
	sh, mh := sha256.New(), md5.New() //nolint:gosec
	dst := io.MultiWriter(sh, mh)
	if w != nil {
		dst = io.MultiWriter(sh, mh, w)
	}
	n, err := io.Copy(dst, body)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) || ctx.Err() != nil {
			return PackageFile{}, err
		}
		// A write to w failed: not the channel's doing.
		return PackageFile{}, fmt.Errorf("writing the download of %s: %w", conda.Redact(packageURL), err)
	}
	return PackageFile{Size: n, SHA256: hex.EncodeToString(sh.Sum(nil)), MD5: hex.EncodeToString(mh.Sum(nil))}, nil
}
