package fetch

import (
	"container/list"
	"context"
	"sync"
)

// memCache is NewMemCache's Cache.
type memCache struct {
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

// NewMemCache returns a Cache in memory holding at most maxBytes of
// values: when a Put would exceed the bound, the least recently used
// entries are dropped. It suits a long-running process (a package
// manager's daemon, a mirror) that verifies the same packages again. Get
// returns a copy of the value, Put stores a copy, and a value larger than
// the bound is not stored.
func NewMemCache(maxBytes int64) Cache {
	return &memCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns a copy of the value stored under key, or ErrCacheMiss.
func (c *memCache) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, ErrCacheMiss
	}
	c.order.MoveToFront(el)
	return append([]byte(nil), el.Value.(*memEntry).data...), ctx.Err()
}

// Put stores a copy of data under key. A value larger than the bound is
// not stored.
func (c *memCache) Put(ctx context.Context, key string, data []byte) error {
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

func (c *memCache) remove(el *list.Element) {
	e := c.order.Remove(el).(*memEntry)
	delete(c.byKey, e.key)
	c.size -= int64(len(e.data))
}
