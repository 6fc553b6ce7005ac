//go:build !unix

package atomicfile

import "os"

// syncDir does nothing: on Windows (and the other non-Unix systems) a
// directory cannot be opened for syncing through Go's API.
func syncDir(*os.Root, string) error { return nil }

// isUnsupportedSync reports false: syncDir never fails here.
func isUnsupportedSync(error) bool { return false }
