package verdictcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/cachedir"
)

// batchHeader starts a batch entry: the single entries of every handle of
// one batch, in order, each preceded by its length and a newline.
// Re-verifying an unchanged environment then reads one entry instead of one
// per package; each package's part is checked against its own key and
// decoded as a single entry would be.
const batchHeader = "condasigs batch 1\n"

// minBatch is the smallest batch worth an entry of its own.
const minBatch = 2

// Batch is the batch entry of the handles of one batch.
type Batch struct {
	c       *Cache
	handles []*Handle
	name    string
	hit     bool // the entry was read and split into the handles' parts
}

// Batch reads the batch entry of handles, all of this cache, and hands each
// handle its part, for its Lookup to decode. It returns nil, reading
// nothing, for fewer than two handles or a nil cache. A missing or damaged
// batch entry leaves the handles to their single entries.
func (c *Cache) Batch(ctx context.Context, handles []*Handle) *Batch {
	if c == nil || len(handles) < minBatch {
		return nil
	}
	h := sha256.New()
	h.Write([]byte(batchHeader))
	for _, hd := range handles {
		h.Write(hd.prefix) // self-delimiting: header and netstrings
	}
	b := &Batch{c: c, handles: handles, name: "batch-" + hex.EncodeToString(h.Sum(nil))}
	b.hit = b.load(ctx)
	return b
}

// load reads the batch entry and hands each handle its part, unread; false
// when there is no sound batch entry.
func (b *Batch) load(ctx context.Context) bool {
	data, err := b.c.store.Get(ctx, b.name)
	if err != nil {
		if !errors.Is(err, fetch.ErrCacheMiss) {
			b.c.log.WarnContext(ctx, "condasigs: reading the verdict cache failed", "err", err)
		}
		return false
	}
	rest, ok := bytes.CutPrefix(data, []byte(batchHeader))
	parts := make([][]byte, len(b.handles))
	for n := 0; ok && n < len(b.handles); n++ {
		var part []byte
		part, rest, ok = cutPart(rest)
		ok = ok && bytes.HasPrefix(part, b.handles[n].prefix)
		parts[n] = part
	}
	if !ok || len(rest) != 0 {
		b.c.log.WarnContext(ctx, "condasigs: ignoring a corrupt batch entry of the verdict cache")
		return false
	}
	for n, hd := range b.handles {
		hd.part = parts[n]
	}
	return true
}

// cutPart splits "<length>\n<part>" off b.
func cutPart(b []byte) (part, rest []byte, ok bool) {
	line, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil, nil, false
	}
	n, err := strconv.Atoi(string(line))
	if err != nil || n < 0 || n > len(rest) {
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}

// Store writes the batch entry, once every handle has been looked up or
// stored, unless the entry read was sound throughout. It writes nothing
// unless every handle has its entry (verified and cached), nor an entry
// larger than cachedir.MaxEntry. A nil Batch stores nothing.
func (b *Batch) Store(ctx context.Context) {
	if b == nil || b.hit && !b.anyBad() {
		return
	}
	size := len(batchHeader)
	for _, hd := range b.handles {
		if hd.entry == nil {
			return // not verified, or not cached: nothing whole to write
		}
		size += len(hd.entry) + 12
	}
	if size > cachedir.MaxEntry {
		return
	}
	data := make([]byte, 0, size)
	data = append(data, batchHeader...)
	for _, hd := range b.handles {
		data = strconv.AppendInt(data, int64(len(hd.entry)), 10)
		data = append(data, '\n')
		data = append(data, hd.entry...)
	}
	if err := b.c.store.Put(ctx, b.name, data); err != nil {
		b.c.log.WarnContext(ctx, "condasigs: writing the verdict cache failed", "err", err)
	}
}

// anyBad reports whether a handle's part of the batch entry did not decode.
func (b *Batch) anyBad() bool {
	for _, hd := range b.handles {
		if hd.partBad {
			return true
		}
	}
	return false
}
