// Package cachedir decides whether a directory may hold files that are
// trusted as they are read back (verdicts, kept repodata and downloads, the
// TUF cache): OpenSSH's StrictModes rule on Unix, the user's cache
// directory elsewhere. Packages fetch and trustroot and the CLI share it;
// fetch.NewDirCache is its public face, and its entries are [Entries].
package cachedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// MaxEntry bounds what fetch.NewDirCache reads of one entry (64 MiB): a
// larger file is treated as corrupt and reported as a miss, so writers of
// larger values (batch verdicts) store nothing.
const MaxEntry = 64 << 20

// ErrNotPrivate is wrapped by every error of [Check], and
// by those of [Prepare] that say the directory is not private.
var ErrNotPrivate = errors.New("cache directory not private")

// Error is the error of [Check]: why a directory cannot be
// trusted, and what would make it pass. It wraps [ErrNotPrivate].
type Error struct {
	// Dir is the directory that was checked, made absolute.
	Dir string
	// Path is the offending path, with symbolic links resolved: Dir, a
	// directory or a symbolic link on the way to it, or what a link
	// points to.
	Path string
	// Reason says what is wrong with Path, for a person, e.g. "others can
	// write the cache directory /srv/c (mode drwxrwxrwx)".
	Reason string
	// Fix says what would make the check pass, e.g. "chmod go-w /srv" for
	// a parent, or removing the directory, for one others could write,
	// since what they planted in it would outlive a chmod.
	Fix string
	// Err is the underlying error, e.g. from lstat, if any.
	Err error
}

// Error describes the problem and its fix.
func (e *Error) Error() string {
	return fmt.Sprintf("%s; to trust it: %s", e.Reason, e.Fix)
}

// Unwrap returns ErrNotPrivate and the underlying error, if any.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNotPrivate}
	}
	return []error{ErrNotPrivate, e.Err}
}

// Check reports whether dir is fit to hold a cache whose entries
// are trusted as they are read back: a verdict cache (a fetch.NewDirCache given
// as condasigs.Options.VerdictCache), kept repodata
// (fetch.Options.RepodataDir), or downloads kept to be installed. Anyone who
// can write such a directory, or replace it or one of its parents, can
// forge what it returns. A nil error means the directory can be trusted;
// any error, a [*Error] naming the offending path, means it must
// not be (the check fails closed: a path it cannot inspect fails).
// Before using a directory, call [Prepare], which creates it and
// checks it again: Check alone passes a directory that does not
// exist yet, which someone else may then create.
//
// A sidecar cache's entries are hashed on every read, but it should be
// checked too before it is written to: a directory others control can
// turn the writes elsewhere.
//
// On Unix, the rule is that of OpenSSH's StrictModes. Symbolic links are
// resolved one by one, and every directory on the way is checked:
//   - dir itself, once resolved, must be a directory owned by the
//     effective user, which neither its group nor others can write;
//   - every directory above it, up to the root, must be owned by root or
//     the effective user, and be writable by neither group nor others
//     unless it has the sticky bit (as /tmp has);
//   - every symbolic link on the way must be owned by root or the
//     effective user (in a sticky directory, its owner can replace it).
//
// A directory that does not exist yet passes when its nearest existing
// ancestor passes the rule for parents; [Prepare] then creates it
// and checks it again, since in a sticky directory another user could
// create it first. Entries inside dir are not inspected: only the
// effective user and root can create them in a directory that passes,
// but what others planted while it was open to them stays, which is why
// the fix for a directory others can write is to remove it, and why
// fetch.NewDirCache and kept repodata also check each entry as they read it. The
// check applies to dir alone: check each subdirectory you give a cache of
// its own (such as <dir>/verdicts) too.
//
// On other platforms (Windows), owners and access lists are not
// inspected. A directory is trusted only when, symbolic links resolved,
// it lies under the user's cache directory ([os.UserCacheDir], on Windows
// %LocalAppData%, which only the user and administrators can write by
// default); anywhere else, and where there is no user cache directory,
// the check fails.
func Check(dir string) error {
	if dir == "" {
		return &Error{Reason: "no cache directory is given", Fix: "give one"}
	}
	abs, err := absolute(dir)
	if err != nil {
		return &Error{Dir: dir, Path: dir, Reason: fmt.Sprintf("the cache directory %s has no absolute path", dir),
			Fix: "give an absolute path", Err: err}
	}
	return check(abs)
}

// Prepare makes dir ready to hold a cache whose entries are
// trusted as they are read back, or files kept to be used later: it checks
// dir with [Check], creates it and its missing parents (mode 0700)
// when it does not exist, and checks it again, since in a sticky
// directory such as /tmp another user could have created it in between.
// Call it before using the directory, and use it only on a nil error; a
// fetch.NewDirCache or fetch.Options.RepodataDir given a directory that passes keeps
// everything it reads and writes inside it.
//
// A nil error means dir exists and can be trusted. An error wrapping
// [ErrNotPrivate] (a [*Error]) means it must not be
// trusted; when the first check fails, nothing is created. Any other
// error means dir did not exist and could not be created (it wraps the
// error of [os.MkdirAll], e.g. [os.ErrPermission]): do not use it then,
// unless it lies in a private directory of yours, where no one else can
// create it later.
func Prepare(dir string) error {
	if err := Check(dir); err != nil {
		return err
	}
	// What is created and found is what was checked: the path made
	// absolute as Check made it (on Windows, "\x" is on the current
	// drive, not under the working directory).
	if abs, err := absolute(dir); err == nil {
		dir = abs
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the cache directory %s: %w", dir, err)
	}
	if err := Check(dir); err != nil {
		return err
	}
	// The check passes for a directory that does not exist: this one must.
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return &Error{Dir: dir, Path: dir, Reason: fmt.Sprintf("the cache directory %s is not there after it was created", dir),
			Fix: "use another path", Err: err}
	}
	return nil
}

// CheckPrivate says why fi, a file or directory inside a directory that
// passes [Prepare], cannot be trusted as it is read back: it
// belongs to another user, or group or others can write it (something
// planted while the directory was open to others, which a chmod of the
// directory leaves in place). Nil means it is private to the effective
// user; on platforms without POSIX owners it is always nil (see
// [Check]).
func CheckPrivate(fi fs.FileInfo) error { return checkPrivate(fi) }
