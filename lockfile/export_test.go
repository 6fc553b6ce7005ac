package lockfile

// Names for the tests of package lockfile_test only.
const MaxSize = maxSize

// Parse parses a lock file's content, in no directory: relative pixi.lock
// package paths are refused.
func Parse(name string, data []byte) (*File, error) { return parse(name, data, "") }
