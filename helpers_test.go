package condasigs_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
)

// fileURL is the file:// URL of a condasigstest channel's directory, which
// its URL method gives before Serve.
func fileURL(ch *condasigstest.Channel) string {
	return (&url.URL{Scheme: "file", Path: ch.Dir}).String()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pinsIn counts the pins of the pin file at path.
func pinsIn(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Pins map[string]map[string]json.RawMessage `json:"pins"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	n := 0
	for _, byName := range f.Pins {
		n += len(byName)
	}
	return n
}

// mustDirCache is fetch.NewDirCache(dir), which must succeed.
func mustDirCache(t testing.TB, dir string) fetch.Cache {
	t.Helper()
	c, err := fetch.NewDirCache(dir)
	require.NoError(t, err)
	return c
}
