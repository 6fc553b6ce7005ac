//go:build !unix

package localfile

// Nonblock is 0 where FIFOs cannot block an open.
const Nonblock = 0
