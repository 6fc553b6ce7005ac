//go:build !unix

package main

// nonblockOpen is 0 where FIFOs cannot block an open.
const nonblockOpen = 0
