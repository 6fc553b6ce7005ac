package fetch

// Names for the tests of package fetch_test only.
const MaxParallelScans = maxParallelScans

// MaxRecordSize is the cap on one record.
const MaxRecordSize = maxRecordSize
