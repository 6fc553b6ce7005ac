package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/cep16"
)

// CEP 16 sharded repodata: <subdir>/repodata_shards.msgpack.zst maps each
// package name to the SHA-256 of its shard, <shards_base_url><hex>.msgpack.zst,
// which holds that name's records.
const (
	shardIndexFile = "repodata_shards.msgpack.zst"

	// maxShardIndexSize caps the shard index, compressed (and
	// Options.MaxRepodataSize, when lower) and decoded alike: 16 MiB. The
	// index of conda-forge's linux-64, its largest, is about 670 kB
	// compressed and 1.5 MB decoded (30,000 names, each with a 32-byte
	// hash that does not compress, so both sizes stay close): the cap
	// leaves room for 10 times as many names. An index is held whole
	// while it is read (compressed, then decoded), so the cap is also what
	// one index read holds: see shardIndexesPerClient.
	maxShardIndexSize = 16 << 20
	// maxShardSize caps a shard as served (compressed): 8 MiB. Shards
	// are a few kB; those of the names with the most builds on
	// conda-forge are a few MB decoded, much less compressed.
	maxShardSize = 8 << 20
	// maxShardDecoded caps a shard decoded: 32 MiB, 4 times its
	// compressed cap (records compress about 5 to 1, since their hashes
	// do not), and 10 times the largest known shard.
	maxShardDecoded = 32 << 20
	// maxDecoderWindow is the most memory, and the largest window, a
	// frame may ask the decoder for: the largest of the caps above.
	maxDecoderWindow = max(maxShardIndexSize, maxShardDecoded)
	// minDecodeBuf is the least a decode starts with, when the frame
	// does not say its size.
	minDecodeBuf = 16 << 10

	// shardBudgetPerCall caps the decoded bytes of all the shards one
	// findInShards call reads: 512 MiB, 16 shards at maxShardDecoded. The
	// shards of all the names of conda-forge's linux-64 together hold
	// about what its repodata.json does, a few hundred MB; a call reads
	// the shards of one lock file's packages of one subdir, a few hundred
	// of them, mostly a few kB each. A hostile index that names as many
	// shards as it likes, each large, costs at most this much decoding
	// (about 2 s of CPU: shards decode at about 350 MB/s) a call: the
	// files whose shards come after fail KindTooLarge.
	shardBudgetPerCall = 512 << 20

	// shardsPerCall bounds the shards one findInShards call fetches at
	// once; shardsPerClient, those of all calls of a Client, so that a
	// Client holds at most shardsPerClient × (maxShardSize +
	// maxShardDecoded) = 320 MiB of shards, however hostile the channels.
	shardsPerCall   = 4
	shardsPerClient = 8
	// shardIndexesPerClient bounds the shard indexes a Client reads at
	// once, from their retrieval to the end of their decoding, whatever
	// the number of calls (Resolve reads up to 64 subdirs at once). One
	// holds at most maxShardIndexSize compressed, as much decoded, the
	// names its call asks for, and the list of the shards kept for it
	// (maxCachedShardsListed × 33 bytes, 8.25 MiB): about 41 MiB, so
	// about 82 MiB for the Client. An honest index (under 1 MB) is read
	// and decoded in milliseconds, so two at once on a 2-CPU machine cost
	// little waiting.
	shardIndexesPerClient = 2

	// shardCacheDir is the subdirectory of Options.RepodataDir keeping
	// shards: one directory of it per index URL, named as the index's
	// kept copy, so that channels sharing RepodataDir never collect one
	// another's shards.
	shardCacheDir = "shards"
)

// errNoShards is wrapped by the error of findInShards when the channel
// serves no shard index (HTTP 404 or 410, or no such file): the caller
// moves on to repodata.json. The error is also a KindNotFound.
var errNoShards = errors.New("fetch: the channel serves no sharded repodata")

// shardState is a Client's CEP 16 machinery, made on first use.
type shardState struct {
	once sync.Once
	dec  *zstd.Decoder
	err  error
	sem  chan struct{}
	// indexes bounds the indexes read at once (shardIndexesPerClient).
	indexes semaphore
}

// shardDecoder returns the Client's zstd decoder, and the semaphore
// bounding the shards it fetches at once.
//
// The decoder is made for untrusted input: its defaults would let a frame
// claim 64 GiB. Here no frame may need more memory, nor a window larger,
// than maxDecoderWindow, the largest cap; every DecodeAll gets a buffer
// whose capacity is the most it may produce (WithDecodeAllCapLimit), and
// fails beyond it. A decoder per CPU lets calls decode at once; with a nil
// reader it starts no goroutine.
func (c *Client) shardDecoder() (*zstd.Decoder, chan struct{}, error) {
	s := &c.shards
	s.once.Do(func() {
		s.dec, s.err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxDecoderWindow),
			zstd.WithDecoderMaxWindow(maxDecoderWindow),
			zstd.WithDecodeAllCapLimit(true))
		s.sem = make(chan struct{}, shardsPerClient)
	})
	return s.dec, s.sem, s.err
}

// decompress decodes src, producing at most limit bytes. It starts with
// the size the first frame gives, if any, and grows the buffer fourfold
// (up to limit) while the output does not fit, so an honest document is
// decoded once and a hostile one costs at most about twice the work of
// decoding limit bytes. Output that does not fit shows as
// ErrDecoderSizeExceeded or, when a block overflows the buffer, as a
// failed block with the buffer all but full (a block makes at most
// zstdMaxBlock bytes): either way, a larger buffer is tried.
func decompress(dec *zstd.Decoder, src []byte, limit int, redacted string) ([]byte, error) {
	n := max(4*len(src), minDecodeBuf)
	var h zstd.Header
	if h.Decode(src) == nil && h.HasFCS && h.FrameContentSize > 0 && h.FrameContentSize <= uint64(limit) {
		n = int(h.FrameContentSize)
	}
	n = min(n, limit)
	for {
		out, err := dec.DecodeAll(src, make([]byte, 0, n))
		if err == nil {
			return out, nil
		}
		full := errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) ||
			len(out) > n-2*zstdMaxBlock
		switch {
		case full && n < limit:
			n = min(4*n, limit)
			continue
		case full:
			return nil, &Error{Kind: KindTooLarge, URL: redacted, Msg: fmt.Sprintf("decompresses to more than the cap of %d bytes", limit)}
		}
		return nil, &Error{Kind: KindMalformed, URL: redacted, Msg: "invalid zstd data", Err: err}
	}
}

// zstdMaxBlock is the most one zstd block decodes to.
const zstdMaxBlock = 128 << 10

// decodeShardIndex decodes the msgpack of a shard index, keeping the
// names want accepts and calling each with every hash (see
// cep16.DecodeIndex; both may be nil).
func decodeShardIndex(b []byte, want func(name []byte) bool, each func(sum [32]byte)) (*cep16.Index, error) {
	idx, err := cep16.DecodeIndex(b, want, each)
	if err != nil {
		return nil, &Error{Kind: KindMalformed, Msg: "invalid sharded repodata", Err: err}
	}
	return idx, nil
}

// decodeShard decodes the msgpack of a shard and returns what it says of
// each of filenames, as FindRecords does for repodata.json: the record of
// a file it lists once; KindNotFound for one it does not list;
// KindMalformed for one it lists more than once ("packages" and
// "packages.conda" together). A malformed shard is the error, and every
// file's. A record without a subdir gets infoSubdir, the index's.
func decodeShard(b []byte, filenames []string, infoSubdir string) (map[string]Found, error) {
	type hit struct {
		rec cep16.Record
		n   int
	}
	hits := make(map[string]*hit, len(filenames))
	for _, f := range filenames {
		hits[f] = &hit{}
	}
	err := cep16.DecodeShard(b, infoSubdir,
		func(f []byte) bool { _, ok := hits[string(f)]; return ok },
		func(r cep16.Record) {
			h := hits[r.Filename]
			if h.n == 0 {
				h.rec = r
			}
			h.n++
		})
	if err != nil {
		err = &Error{Kind: KindMalformed, Msg: "invalid sharded repodata", Err: err}
		return allFailed(filenames, err), err
	}
	out := make(map[string]Found, len(hits))
	for f, h := range hits {
		r := h.rec
		out[f] = foundOf(f, Record{
			Filename: r.Filename, Name: r.Name, Version: r.Version, Build: r.Build,
			BuildNumber: r.BuildNumber, Subdir: r.Subdir, Size: r.Size,
			SHA256: r.SHA256, MD5: r.MD5, AttestationsSHA256: r.AttestationsSHA256,
			advertisedEmpty: r.AttestationsKey && r.AttestationsSHA256 == "",
		}, h.n, "the shard")
	}
	return out, nil
}

// shardIndexURL is the URL of the shard index beside the repodata.json at
// repodataURL, keeping its credentials, query and escaping.
func shardIndexURL(repodataURL string) (*url.URL, error) {
	u, err := url.Parse(repodataURL)
	if err != nil || path.Base(u.Path) != "repodata.json" {
		return nil, &Error{Kind: KindInvalidURL, URL: conda.Redact(repodataURL), Msg: "not the URL of a repodata.json"}
	}
	u.Path = strings.TrimSuffix(u.Path, "repodata.json") + shardIndexFile
	if raw, ok := strings.CutSuffix(u.RawPath, "repodata.json"); ok && u.RawPath != "" {
		u.RawPath = raw + shardIndexFile
	} else {
		u.RawPath = ""
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// readJSONInstead ends the message of an index the client refuses.
const readJSONInstead = "; to read repodata.json instead, leave repodata_shards.msgpack.zst out of fetch.Options.RecordSources"

// sameOrigin resolves ref against the index URL, and refuses it unless it
// keeps the index's scheme and host (port included), as a redirect
// between hosts would be refused: a channel's index must not send its
// credentials, or the verifier, elsewhere. On a file:// channel, whose
// host is empty, it must also stay under the channel's directory (see
// underChannel) when inChannel is set. The index's query string, which
// may carry a token, is kept when ref gives none.
//
// ref is the channel's, so a refusal is KindMalformed: the channel's
// document is wrong (a retrieval failure of the packages that need it),
// not the caller's URL.
func sameOrigin(index *url.URL, what, ref string, inChannel bool) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, &Error{Kind: KindMalformed, URL: conda.Redact(index.String()),
			Msg: fmt.Sprintf("the shard index's %s does not parse%s", what, readJSONInstead)}
	}
	u := index.ResolveReference(r)
	if u.Scheme != index.Scheme || !strings.EqualFold(u.Host, index.Host) {
		return nil, &Error{Kind: KindMalformed, URL: conda.Redact(index.String()),
			Msg: fmt.Sprintf("the shard index's %s %s is on another scheme or host than the index%s", what, conda.Redact(u.String()), readJSONInstead)}
	}
	if inChannel && u.Scheme == "file" && !underChannel(index.Path, u.Path) {
		return nil, &Error{Kind: KindMalformed, URL: conda.Redact(index.String()),
			Msg: fmt.Sprintf("the shard index's %s %s leads out of the channel's directory%s", what, conda.Redact(u.String()), readJSONInstead)}
	}
	if u.RawQuery == "" {
		u.RawQuery = index.RawQuery
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// underChannel reports whether p, the path of a file:// URL the index at
// indexPath (<channel>/<subdir>/repodata_shards.msgpack.zst) names, is
// the channel's directory or under it. p is the decoded path, as the
// file is opened: a segment "." or ".." in it (which an escaped %2e%2e
// gives, ResolveReference having removed only the literal ones) or a
// backslash (a separator on Windows) is refused outright, rather than
// cleaned.
func underChannel(indexPath, p string) bool {
	if strings.Contains(p, `\`) {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	channel := path.Dir(path.Dir(path.Clean(indexPath)))
	p = path.Clean(p)
	return p == channel || strings.HasPrefix(p, strings.TrimSuffix(channel, "/")+"/")
}

// shardURL is the URL of the shard of sum under base.
func shardURL(base *url.URL, sum [32]byte) *url.URL {
	u := *base
	file := hex.EncodeToString(sum[:]) + ".msgpack.zst"
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	u.Path += file
	if u.RawPath != "" {
		u.RawPath += file
	}
	return &u
}

// findInShards finds the records of filenames through the CEP 16 sharded
// repodata beside the repodata.json at repodataURL (credentials
// included: never printed): it reads the shard index (revalidated against
// the copy kept in Options.RepodataDir, if set), keeping only the names
// needed, then the shard of each hash they give, once, concurrently,
// checking each against the index's SHA-256 before decoding it. Shards
// are kept in RepodataDir too, hashed again on every read, never
// revalidated, and collected once the index no longer names them. The
// shards of one call decode to at most shardBudgetPerCall bytes in all.
//
// The error, which then applies to every file, is the index's: one that
// wraps errNoShards (and is KindNotFound) when the channel serves none, so
// that the caller reads repodata.json instead. Otherwise each file's
// Found says what its shard says: KindNotFound for a name the index
// lacks, and a shard that cannot be had or is not the one named fails the
// files that need it only.
func (c *Client) findInShards(ctx context.Context, repodataURL string, filenames []string) (map[string]Found, error) {
	idxURL, err := shardIndexURL(repodataURL)
	if err != nil {
		return allFailed(filenames, err), err
	}
	redactedIdx := conda.Redact(idxURL.String())
	out := make(map[string]Found, len(filenames))
	names := map[string][]string{} // the files of each package name
	for _, f := range filenames {
		if _, done := out[f]; done {
			continue
		}
		pf, err := conda.ParseFilename(f)
		if err != nil {
			out[f] = Found{Err: &Error{Kind: KindNotFound, URL: redactedIdx, Msg: fmt.Sprintf("%q is not a package file name", f)}}
			continue
		}
		names[pf.Name] = append(names[pf.Name], f)
		out[f] = Found{} // claimed; filled in below
	}
	idx, cache, err := c.readShardIndex(ctx, idxURL, func(n []byte) bool { _, ok := names[string(n)]; return ok })
	if err != nil {
		return allFailed(filenames, err), err
	}
	if idx.BaseURL != "" {
		if _, err := sameOrigin(idxURL, "base_url", idx.BaseURL, false); err != nil {
			return allFailed(filenames, err), err
		}
	}
	base, err := sameOrigin(idxURL, "shards_base_url", idx.ShardsBaseURL, true)
	if err != nil {
		return allFailed(filenames, err), err
	}

	// One job a distinct shard, whatever the number of names that give
	// its hash: its files are theirs together.
	type job struct {
		sum   [32]byte
		files []string
	}
	jobs := map[[32]byte]*job{}
	for name, files := range names {
		sum, ok := idx.Shards[name]
		if !ok {
			for _, f := range files {
				out[f] = Found{Err: &Error{Kind: KindNotFound, URL: redactedIdx, Msg: fmt.Sprintf("the sharded repodata does not list package %q", name)}}
			}
			continue
		}
		j := jobs[sum]
		if j == nil {
			j = &job{sum: sum}
			jobs[sum] = j
		}
		j.files = append(j.files, files...)
	}
	_, clientSem, err := c.shardDecoder()
	if err != nil {
		err = &Error{Kind: KindMalformed, Msg: "cannot make a zstd decoder", Err: err}
		return allFailed(filenames, err), err
	}
	budget := &decodeBudget{left: shardBudgetPerCall}
	callSem := make(chan struct{}, shardsPerCall)
	var mu sync.Mutex
	var wg sync.WaitGroup
	record := func(found map[string]Found) {
		mu.Lock()
		defer mu.Unlock()
		for f, v := range found {
			out[f] = v
		}
	}
	// A goroutine starts only once it holds a slot of the call: at most
	// shardsPerCall run, however many shards the names need (a lock file
	// and an index choose that number).
	for _, j := range jobs {
		select {
		case callSem <- struct{}{}:
		case <-ctx.Done():
			record(allFailed(j.files, ctx.Err()))
			continue
		}
		wg.Go(func() {
			defer func() { <-callSem }()
			var found map[string]Found
			select {
			case clientSem <- struct{}{}:
				found = c.findInShard(ctx, base, cache, j.sum, j.files, idx.Subdir, budget)
				<-clientSem
			case <-ctx.Done():
			}
			if found == nil {
				found = allFailed(j.files, ctx.Err())
			}
			record(found)
		})
	}
	wg.Wait()
	return out, nil
}

// decodeBudget is what is left of a call's shardBudgetPerCall.
type decodeBudget struct {
	mu   sync.Mutex
	left int
}

// take reserves at most n bytes of the budget, and returns how many.
func (b *decodeBudget) take(n int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n = min(n, b.left)
	b.left -= n
	return n
}

// give returns n bytes reserved and not used.
func (b *decodeBudget) give(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left += n
}

// readShardIndex reads the shard index at u and decodes it, keeping the
// names want accepts, under a slot of the Client's shardIndexesPerClient.
// With Options.RepodataDir set, it also returns the index's shard cache,
// having removed from it the shards the index no longer names (nil when
// there is none).
func (c *Client) readShardIndex(ctx context.Context, u *url.URL, want func(name []byte) bool) (*cep16.Index, *shardCache, error) {
	if _, err := c.checkURL(u.String()); err != nil {
		return nil, nil, err
	}
	dec, _, err := c.shardDecoder()
	redacted := conda.Redact(u.String())
	if err != nil {
		return nil, nil, &Error{Kind: KindMalformed, URL: redacted, Msg: "cannot make a zstd decoder", Err: err}
	}
	if err := c.shards.indexes.acquire(ctx, shardIndexesPerClient); err != nil {
		return nil, nil, err
	}
	defer c.shards.indexes.release()
	limit := min(int64(maxShardIndexSize), c.opts.MaxRepodataSize)
	var body io.ReadCloser
	if c.opts.RepodataDir != "" && (u.Scheme == "http" || u.Scheme == "https") {
		body, err = c.openCachedRepodata(ctx, u, limit)
	} else {
		body, err = c.Open(ctx, u.String(), limit)
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) && fe.Kind == KindNotFound {
			return nil, nil, &Error{Kind: KindNotFound, URL: fe.URL, StatusCode: fe.StatusCode, Msg: fe.Msg, Err: errNoShards}
		}
		return nil, nil, err
	}
	data, err := io.ReadAll(body)
	if cerr := body.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}
	raw, err := decompress(dec, data, int(limit), redacted)
	if err != nil {
		return nil, nil, err
	}
	cache := c.shardCache(ctx, u)
	var kept *cachedShards
	var each func([32]byte)
	if cache != nil {
		kept = cache.list()
		each = kept.mark
	}
	idx, err := decodeShardIndex(raw, want, each)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fe.URL = redacted
		}
		return nil, nil, err
	}
	if cache != nil {
		cache.collect(kept)
	}
	return idx, cache, nil
}

// findInShard gets the shard of sum and returns what it says of files,
// decoding it within what is left of budget. Every failure is each
// file's.
func (c *Client) findInShard(ctx context.Context, base *url.URL, cache *shardCache, sum [32]byte, files []string, infoSubdir string, budget *decodeBudget) map[string]Found {
	u := shardURL(base, sum)
	redacted := conda.Redact(u.String())
	data, err := c.getShard(ctx, u, cache, sum)
	if err != nil {
		return allFailed(files, err)
	}
	dec, _, err := c.shardDecoder()
	if err != nil {
		return allFailed(files, err)
	}
	limit := budget.take(maxShardDecoded)
	overBudget := &Error{Kind: KindTooLarge, URL: redacted,
		Msg: fmt.Sprintf("the shards this request needs decode to more than %d bytes in all", shardBudgetPerCall)}
	if limit == 0 {
		return allFailed(files, overBudget)
	}
	data, err = decompress(dec, data, limit, redacted)
	budget.give(limit - len(data))
	if err != nil {
		if limit < maxShardDecoded && kindOf(err) == KindTooLarge {
			err = overBudget
		}
		return allFailed(files, err)
	}
	found, _ := decodeShard(data, files, infoSubdir)
	nameDocument(found, redacted)
	return found
}

// getShard returns the shard of sum at u, as served (compressed), from
// the cache when it holds bytes that hash to sum, else retrieved, checked
// against sum and kept.
func (c *Client) getShard(ctx context.Context, u *url.URL, cache *shardCache, sum [32]byte) ([]byte, error) {
	key := hex.EncodeToString(sum[:])
	redacted := conda.Redact(u.String())
	if cache != nil {
		if data, err := cache.entries.Get(ctx, key); err == nil {
			if sha256.Sum256(data) == sum {
				c.log.DebugContext(ctx, "condasigs: shard from the cache", "url", redacted)
				return data, nil
			}
			c.log.DebugContext(ctx, "condasigs: a kept shard does not hash to its name; fetching it again", "url", redacted)
			cache.remove(key)
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	body, err := c.Open(ctx, u.String(), maxShardSize)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(body)
	if cerr := body.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(data); got != sum {
		return nil, &Error{Kind: KindHashMismatch, URL: redacted,
			Msg: fmt.Sprintf("the shard hashes to %x, not to the %x of the shard index", got, sum)}
	}
	if cache != nil {
		if err := cache.entries.Put(ctx, key, data); err != nil {
			c.log.DebugContext(ctx, "condasigs: cannot keep a shard", "url", redacted, "err", err)
		}
	}
	return data, nil
}

// shardCache keeps the shards of one index: entries checked private as
// they are read, in RepodataDir/shards/<name of the index>.
type shardCache struct {
	entries *cachedir.Entries
}

func (s *shardCache) remove(key string) { s.entries.Remove(key) }

// shardCache returns the shard cache of the index at u, or nil when
// Options.RepodataDir is not set or its shard directory is not private
// to the user.
func (c *Client) shardCache(ctx context.Context, u *url.URL) *shardCache {
	dir := c.opts.RepodataDir
	if dir == "" {
		return nil
	}
	sub := filepath.Join(shardCacheDir, repodataName(u))
	if err := c.prepareShardDir(dir, sub); err != nil {
		c.log.WarnContext(ctx, "fetch: cannot keep shards", "err", err)
		return nil
	}
	return &shardCache{entries: cachedir.PrivateEntries(filepath.Join(dir, sub))}
}

// prepareShardDir makes dir/sub, a directory of shards, once dir is
// found private to the user; each directory on the way is made through
// an os.Root of dir (no symbolic link leads out of it) and checked
// private before it is used.
func (c *Client) prepareShardDir(dir, sub string) error {
	if err := cachedir.Prepare(dir); err != nil {
		return err
	}
	root, err := cachedir.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := privateDir(root, dir); err != nil {
		return err
	}
	for _, d := range []string{shardCacheDir, sub} {
		if err := root.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := cachedir.PrivateSubdir(root, d); err != nil {
			return err
		}
	}
	return nil
}

// maxCachedShardsListed bounds the kept shards of one index that a read
// of the index lists, to collect those it no longer names: 262,144, 33
// bytes each (8.25 MiB), 8 times the names of conda-forge's linux-64.
// Collection keeps a cache at about the number of names an index gives,
// so the bound is reached only by a cache grown by other means; what
// lies beyond it is not collected.
const maxCachedShardsListed = 1 << 18

// cachedShards lists the kept shards of an index, sorted, and marks those
// the index names as it is decoded.
type cachedShards struct {
	sums  [][32]byte
	named []bool
}

// mark marks sum as named by the index.
func (k *cachedShards) mark(sum [32]byte) {
	i, ok := slices.BinarySearchFunc(k.sums, sum, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	if ok {
		k.named[i] = true
	}
}

// list lists the shards of the cache, at most maxCachedShardsListed.
// Only names of 64 lowercase hex characters are shards: a writer's
// temporary file is left alone.
func (s *shardCache) list() *cachedShards {
	k := &cachedShards{}
	root, err := cachedir.OpenRoot(s.entries.Dir())
	if err != nil {
		return k
	}
	defer root.Close()
	subs, err := readDir(root, ".", maxDirEntries)
	if err != nil {
		return k
	}
	for _, sub := range subs {
		left := maxCachedShardsListed - len(k.sums)
		if left <= 0 {
			break
		}
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		entries, err := readDir(root, sub.Name(), left)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			var sum [32]byte
			if len(name) != 64 || !strings.HasPrefix(name, sub.Name()) || name != strings.ToLower(name) {
				continue
			}
			if _, err := hex.Decode(sum[:], []byte(name)); err != nil {
				continue
			}
			k.sums = append(k.sums, sum)
		}
	}
	slices.SortFunc(k.sums, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	k.named = make([]bool, len(k.sums))
	return k
}

// collect removes the listed shards that the index did not name.
func (s *shardCache) collect(k *cachedShards) {
	root, err := cachedir.OpenRoot(s.entries.Dir())
	if err != nil {
		return
	}
	defer root.Close()
	for i, sum := range k.sums {
		if !k.named[i] {
			name := hex.EncodeToString(sum[:])
			_ = root.Remove(filepath.Join(name[:2], name))
		}
	}
}

// maxDirEntries bounds what list reads of the directory of the cache: its
// subdirectories are named by two hex characters.
const maxDirEntries = 1 << 10

func readDir(root *os.Root, name string, n int) ([]fs.DirEntry, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(n)
}
