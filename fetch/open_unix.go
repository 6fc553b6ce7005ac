//go:build unix

package fetch

import "syscall"

// nonblock opens FIFOs without waiting for a writer.
const nonblock = syscall.O_NONBLOCK
