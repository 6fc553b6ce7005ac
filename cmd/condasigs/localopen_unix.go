//go:build unix

package main

import "syscall"

// nonblockOpen opens FIFOs without waiting for a writer.
const nonblockOpen = syscall.O_NONBLOCK
