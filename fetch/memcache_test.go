package fetch_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/memcache"
)

// A client with a memory cache fetches each sidecar once.
func TestFetchSidecarMemCache(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(100)
	srv := newSidecarServer(t, data)
	c := newClient(t, fetch.Options{Cache: memcache.New(1 << 20)})
	for range 3 {
		sc, err := c.FetchSidecar(context.Background(), srv.URL+"/chan/noarch/"+pkgFile, record(pkgFile, data))
		require.NoError(t, err)
		assert.Equal(t, data, sc.Data)
	}
	assert.Equal(t, 1, srv.Hits())
}
