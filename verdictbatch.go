package condasigs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/condasigs/condasigs/fetch"
)

// batchHeader starts a batch entry of the verdict cache: the entries of
// every keyed package of one VerifyAll call, in order, each preceded by its
// length and a newline. Re-verifying an unchanged environment then reads
// one entry instead of one per package; each package's part is checked
// against its own key and decoded as a single entry would be. A batch
// entry that is missing or does not match falls back to the single
// entries, which are always written too.
const batchHeader = "condasigs batch 1\n"

// minBatch is the smallest batch worth an entry of its own.
const minBatch = 2

// batchOf keys the jobs whose evidence can be cached and returns their
// indexes and the name of their batch entry, or "" when there is none.
func (v *Verifier) batchOf(jobs []*job, errs []error) (idx []int, name string) {
	if v.verdicts == nil {
		return nil, ""
	}
	h := sha256.New()
	h.Write([]byte(batchHeader))
	for i, j := range jobs {
		if errs[i] != nil || j.done || (j.lock != nil && j.lock.unavailable != nil) {
			continue
		}
		k, ok := v.verdictKeyOf(j)
		if !ok {
			continue
		}
		j.key, j.keyed, j.prefix = k, true, k.prefix()
		h.Write(j.prefix) // self-delimiting: header and netstrings
		idx = append(idx, i)
	}
	if len(idx) < minBatch {
		return nil, ""
	}
	return idx, "batch-" + hex.EncodeToString(h.Sum(nil))
}

// loadBatch reads the batch entry and hands each job its part, unread;
// false when there is no sound batch entry.
func (v *Verifier) loadBatch(ctx context.Context, jobs []*job, idx []int, name string) bool {
	b, err := v.verdicts.Get(ctx, name)
	if err != nil {
		if !errors.Is(err, fetch.ErrCacheMiss) {
			v.log.WarnContext(ctx, "condasigs: reading the verdict cache failed", "err", err)
		}
		return false
	}
	rest, ok := bytes.CutPrefix(b, []byte(batchHeader))
	parts := make([][]byte, len(idx))
	for n := 0; ok && n < len(idx); n++ {
		var part []byte
		part, rest, ok = cutPart(rest)
		ok = ok && bytes.HasPrefix(part, jobs[idx[n]].prefix)
		parts[n] = part
	}
	if !ok || len(rest) != 0 {
		v.log.WarnContext(ctx, "condasigs: ignoring a corrupt batch entry of the verdict cache")
		return false
	}
	for n, i := range idx {
		jobs[i].batchEntry = parts[n]
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

// storeBatch writes the batch entry of the jobs at idx, if every one of
// them has its entry.
func (v *Verifier) storeBatch(ctx context.Context, jobs []*job, idx []int, name string) {
	size := len(batchHeader)
	for _, i := range idx {
		if jobs[i].entry == nil {
			return // not verified, or not cached: nothing whole to write
		}
		size += len(jobs[i].entry) + 12
	}
	if size > fetch.MaxCacheEntry {
		return
	}
	b := make([]byte, 0, size)
	b = append(b, batchHeader...)
	for _, i := range idx {
		b = strconv.AppendInt(b, int64(len(jobs[i].entry)), 10)
		b = append(b, '\n')
		b = append(b, jobs[i].entry...)
	}
	if err := v.verdicts.Put(ctx, name, b); err != nil {
		v.log.WarnContext(ctx, "condasigs: writing the verdict cache failed", "err", err)
	}
}
