package fetch

// Names for the tests of package fetch_test only.
const MaxParallelScans = maxParallelScans

// MaxRecordSize is the cap on one record.
const MaxRecordSize = maxRecordSize

// MaxSidecarSize returns the effective sidecar size cap, for the tests.
func (c *Client) MaxSidecarSize() int64 { return c.opts.MaxSidecarSize }
