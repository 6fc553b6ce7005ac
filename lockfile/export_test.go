package lockfile

// Names for the tests of package lockfile_test only.
const MaxSize = maxSize
