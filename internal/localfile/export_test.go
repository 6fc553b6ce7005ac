package localfile

// ReadFileWaiting is readFile, for the tests: they wait less than FIFOWait.
var ReadFileWaiting = readFile
