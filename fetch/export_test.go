package fetch

import (
	"github.com/condasigs/condasigs/internal/cachedir"
)

// Names for the tests of package fetch_test only.
const MaxParallelScans = maxParallelScans

// MaxRecordSize is the cap on one record.
const MaxRecordSize = maxRecordSize

// KindOf is kindOf, for the tests.
var KindOf = kindOf

// ErrCacheDirNotPrivate is what NewDirCache's errors wrap when the
// directory must not be trusted.
var ErrCacheDirNotPrivate = cachedir.ErrNotPrivate

// DefaultMaxSidecarSize is the default Options.MaxSidecarSize.
const DefaultMaxSidecarSize = defaultMaxSidecarSize
