package memcache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/memcache"
)

func TestMemCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := memcache.New(10)
	_, err := c.Get(ctx, "a")
	assert.ErrorIs(t, err, fetch.ErrCacheMiss)

	v := []byte("1234")
	require.NoError(t, c.Put(ctx, "a", v))
	v[0] = 'x' // the cache holds a copy
	got, err := c.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, []byte("1234"), got)
	got[0] = 'y' // and returns one
	got, _ = c.Get(ctx, "a")
	assert.Equal(t, []byte("1234"), got)

	require.NoError(t, c.Put(ctx, "b", []byte("5678")))
	_, _ = c.Get(ctx, "a")                              // a is now the most recently used
	require.NoError(t, c.Put(ctx, "c", []byte("9012"))) // 12 bytes > 10: b goes
	_, err = c.Get(ctx, "b")
	assert.ErrorIs(t, err, fetch.ErrCacheMiss, "the least recently used went")
	for _, k := range []string{"a", "c"} {
		_, err = c.Get(ctx, k)
		assert.NoError(t, err, k)
	}
	require.NoError(t, c.Put(ctx, "huge", make([]byte, 11)))
	_, err = c.Get(ctx, "huge")
	assert.ErrorIs(t, err, fetch.ErrCacheMiss, "larger than the bound: not kept")
	require.NoError(t, c.Put(ctx, "a", []byte("123456789"))) // replaces a, evicts c
	_, err = c.Get(ctx, "c")
	assert.ErrorIs(t, err, fetch.ErrCacheMiss)
}

func TestMemCacheConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := memcache.New(1 << 10)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("k%d", (g*7+i)%50)
				if err := c.Put(ctx, key, []byte(key)); err != nil {
					t.Error(err)
				}
				if b, err := c.Get(ctx, key); err == nil && string(b) != key {
					t.Errorf("got %q for %s", b, key)
				}
			}
		})
	}
	wg.Wait()
}
