package trustroot

import "context"

// RepositoryCacheDir lets the external tests find a repository's cache
// directory.
var RepositoryCacheDir = repositoryCacheDir

// Set is the material of several instances.
type Set = memberSet

// DefaultCacheDir is where TUF metadata is cached by default.
var DefaultCacheDir = defaultCacheDir

// Refresh is refresh, for the tests.
func (t *TUF) Refresh(ctx context.Context) error { return t.refresh(ctx) }
