//go:build unix

package localfile

import "syscall"

// Nonblock, or'ed into os.OpenFile's flags, opens a FIFO without waiting
// for a writer.
const Nonblock = syscall.O_NONBLOCK
