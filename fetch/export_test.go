package fetch

// Names for the tests of package fetch_test only.
const MaxParallelScans = maxParallelScans
