//go:build !unix

package fetch

// nonblock is 0 where FIFOs cannot block an open.
const nonblock = 0
