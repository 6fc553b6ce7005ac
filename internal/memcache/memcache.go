// Package memcache is a bounded cache in memory, of the fetch.Cache
// interface, for the CLI and the tests.
package memcache

import (
	"container/list"
	"context"
	"sync"

	"github.com/condasigs/condasigs/internal/cachedir"
)

// Cache is New's cache.
type Cache struct {
	max int64

	mu    sync.Mutex
	size  int64
	order *list.List               // of *memEntry, most recently used first
	byKey map[string]*list.Element // into order
}

type memEntry struct {
	key  string
	data []byte
}

// New returns a cache in memory holding at most maxBytes of values: when a
// Put would exceed the bound, the least recently used entries are dropped.
// Get returns a copy of the value, Put stores a copy, and a value larger
// than the bound is not stored.
func New(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns a copy of the value stored under key, or cachedir.ErrMiss
// (fetch.ErrCacheMiss).
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, cachedir.ErrMiss
	}
	c.order.MoveToFront(el)
	return append([]byte(nil), el.Value.(*memEntry).data...), ctx.Err()
}

// Put stores a copy of data under key. A value larger than the bound is
// not stored.
func (c *Cache) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int64(len(data))
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	if n > c.max {
		return nil
	}
	for c.size+n > c.max {
		c.remove(c.order.Back())
	}
	c.byKey[key] = c.order.PushFront(&memEntry{key: key, data: append([]byte(nil), data...)})
	c.size += n
	return nil
}

func (c *Cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*memEntry)
	delete(c.byKey, e.key)
	c.size -= int64(len(e.data))
}
