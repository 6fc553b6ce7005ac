package policy_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pinChannel = "https://conda.anaconda.org/conda-forge"

func signer(id string) policy.PinnedSigner {
	return policy.PinnedSigner{Issuer: ghIssuer, RepositoryID: id, Repository: "https://github.com/o/" + id}
}

// loadPins loads the store at path, failing the test on an error.
func loadPins(t testing.TB, path string) *policy.PinStore {
	t.Helper()
	s, err := policy.LoadPins(path)
	require.NoError(t, err)
	return s
}

// pinsIn returns the pins of pinChannel in the file at path, by package.
func pinsIn(t testing.TB, path string) map[string]policy.PinnedSigner {
	t.Helper()
	s := loadPins(t, path)
	out := map[string]policy.PinnedSigner{}
	for i := range 1000 {
		name := "pkg" + strconv.Itoa(i)
		if p, ok := s.Get(pinChannel, name); ok {
			out[name] = p
		}
	}
	for _, name := range []string{"numpy", "scipy", "pandas"} {
		if p, ok := s.Get(pinChannel, name); ok {
			out[name] = p
		}
	}
	require.Equal(t, len(out), s.Len(), "pins outside the names looked at")
	return out
}

// Two stores loaded from one file, each recording another package: the
// second Save keeps the first one's pin.
func TestPinSaveMergesWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	seed := loadPins(t, path)
	seed.Set(pinChannel, "pandas", signer("1"))
	require.NoError(t, seed.Save())

	a, b := loadPins(t, path), loadPins(t, path)
	a.Set(pinChannel, "numpy", signer("2"))
	_, found := b.SetIfAbsent(pinChannel, "scipy", signer("3"))
	require.False(t, found)
	require.NoError(t, a.Save())
	require.NoError(t, b.Save())

	want := map[string]policy.PinnedSigner{"pandas": signer("1"), "numpy": signer("2"), "scipy": signer("3")}
	assert.Equal(t, want, pinsIn(t, path))
	got, ok := b.Get(pinChannel, "numpy")
	assert.True(t, ok, "after Save the store holds the file's pins")
	assert.Equal(t, signer("2"), got)
}

// Many stores saving at once, each with a package of its own: no pin is
// lost.
func TestPinSaveConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	const writers = 40
	stores := make([]*policy.PinStore, writers)
	for i := range stores {
		stores[i] = loadPins(t, path)
		stores[i].SetIfAbsent(pinChannel, "pkg"+strconv.Itoa(i), signer(strconv.Itoa(i)))
	}
	start := make(chan struct{})
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Save()
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	got := pinsIn(t, path)
	for i := range writers {
		assert.Equal(t, signer(strconv.Itoa(i)), got["pkg"+strconv.Itoa(i)], "pin %d lost", i)
	}
}

// The helper process of TestPinSaveConcurrentProcesses: it loads the pin
// file, records its package, waits for the start file and saves.
func TestPinSaveHelperProcess(t *testing.T) {
	path, name, start := os.Getenv("CONDASIGS_PIN_FILE"), os.Getenv("CONDASIGS_PIN_NAME"), os.Getenv("CONDASIGS_PIN_START")
	if path == "" {
		t.Skip("a helper of TestPinSaveConcurrentProcesses")
	}
	s := loadPins(t, path)
	s.SetIfAbsent(pinChannel, name, signer(name))
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(start); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no start signal")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, s.Save())
}

// Processes saving one pin file at once: no pin is lost.
func TestPinSaveConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	path, start := filepath.Join(dir, "pins.json"), filepath.Join(dir, "start")
	const procs = 8
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*lockedBuffer, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPinSaveHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CONDASIGS_PIN_FILE="+path, "CONDASIGS_PIN_NAME=pkg"+strconv.Itoa(i), "CONDASIGS_PIN_START="+start)
		outs[i] = &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	time.Sleep(200 * time.Millisecond) // let them load the (missing) file
	require.NoError(t, os.WriteFile(start, nil, 0o600))
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "helper %d: %s", i, outs[i].String())
	}
	got := pinsIn(t, path)
	for i := range procs {
		name := "pkg" + strconv.Itoa(i)
		assert.Equal(t, signer(name), got[name], "pin of %s lost", name)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// Two writers pinning different signers of one package on first use: the
// first pin stays, the second Save says so and writes its other changes.
func TestPinSaveFirstUseConflict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	a, b := loadPins(t, path), loadPins(t, path)
	a.SetIfAbsent(pinChannel, "numpy", signer("1"))
	b.SetIfAbsent(pinChannel, "numpy", signer("666"))
	b.Set(pinChannel, "scipy", signer("2"))
	require.NoError(t, a.Save())

	err := b.Save()
	var conflict *policy.PinConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, path, conflict.Path)
	assert.Equal(t, []policy.PinConflict{{Channel: pinChannel, Package: "numpy", Kept: signer("1"), Refused: signer("666")}}, conflict.Conflicts)
	assert.Contains(t, err.Error(), "numpy on "+pinChannel+" is pinned to "+signer("1").String()+", not pinned to "+signer("666").String())

	assert.Equal(t, map[string]policy.PinnedSigner{"numpy": signer("1"), "scipy": signer("2")}, pinsIn(t, path))
	got, _ := b.Get(pinChannel, "numpy")
	assert.Equal(t, signer("1"), got, "the store now holds the file's pin")
	require.NoError(t, b.Save(), "a conflict is reported once")
}

// A deliberate replacement (Set over a pin, as pin --replace does) is
// written over the pin it replaced, while other writers' pins are kept;
// not over a pin another writer changed meanwhile.
func TestPinSaveReplace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	seed := loadPins(t, path)
	seed.Set(pinChannel, "numpy", signer("1"))
	require.NoError(t, seed.Save())

	a, b := loadPins(t, path), loadPins(t, path)
	a.Set(pinChannel, "numpy", signer("2"))
	b.SetIfAbsent(pinChannel, "scipy", signer("3"))
	require.NoError(t, b.Save())
	require.NoError(t, a.Save())
	assert.Equal(t, map[string]policy.PinnedSigner{"numpy": signer("2"), "scipy": signer("3")}, pinsIn(t, path))

	// Two replacements at once: the first stays.
	c, d := loadPins(t, path), loadPins(t, path)
	c.Set(pinChannel, "numpy", signer("4"))
	d.Set(pinChannel, "numpy", signer("5"))
	require.NoError(t, c.Save())
	err := d.Save()
	var conflict *policy.PinConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, []policy.PinConflict{{Channel: pinChannel, Package: "numpy", Kept: signer("4"), Refused: signer("5"), Replacing: true}}, conflict.Conflicts)
	assert.Contains(t, err.Error(), "not replaced")
	assert.Equal(t, signer("4"), pinsIn(t, path)["numpy"])

	// A replacement after the other writer's is seen: written.
	d.Set(pinChannel, "numpy", signer("5"))
	require.NoError(t, d.Save())
	assert.Equal(t, signer("5"), pinsIn(t, path)["numpy"])
}

// A file made corrupt after the load fails the Save, which leaves it alone.
func TestPinSaveCorruptMeanwhile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	s := loadPins(t, path)
	s.Set(pinChannel, "numpy", signer("1"))
	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o644))
	err := s.Save()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "corrupt")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{not json", string(b))
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("no symbolic links here: %v", err)
		}
		t.Fatal(err)
	}
}

// A pin file that is a symbolic link stays one: Save replaces the target,
// through relative links, chains of links and links to a file not yet
// there; it never puts a regular file in the link's place.
func TestPinSaveFollowsSymlinks(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, dir string) (path, target string)
	}{
		{"relative", func(t *testing.T, dir string) (string, string) {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
			target := filepath.Join(dir, "real", "pins.json")
			require.NoError(t, os.WriteFile(target, []byte(`{"version": 1, "pins": {"`+pinChannel+`": {"pandas": {"issuer": "`+ghIssuer+`", "repository_id": "9"}}}}`), 0o644))
			symlink(t, filepath.Join("real", "pins.json"), filepath.Join(dir, "pins.json"))
			return filepath.Join(dir, "pins.json"), target
		}},
		{"chain", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "pins-real.json")
			require.NoError(t, os.WriteFile(target, []byte(`{"version": 1, "pins": {"`+pinChannel+`": {"pandas": {"issuer": "`+ghIssuer+`", "repository_id": "9"}}}}`), 0o644))
			symlink(t, target, filepath.Join(dir, "middle.json"))
			symlink(t, "middle.json", filepath.Join(dir, "pins.json"))
			return filepath.Join(dir, "pins.json"), target
		}},
		{"relative to the linked directory", func(t *testing.T, dir string) (string, string) {
			// link/ is real/sub; link/pins.json -> ../pins.json is
			// real/pins.json, not dir/pins.json.
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o755))
			symlink(t, filepath.Join(dir, "real", "sub"), filepath.Join(dir, "link"))
			symlink(t, filepath.Join("..", "pins.json"), filepath.Join(dir, "real", "sub", "pins.json"))
			return filepath.Join(dir, "link", "pins.json"), filepath.Join(dir, "real", "pins.json")
		}},
		{"dangling", func(t *testing.T, dir string) (string, string) {
			symlink(t, "elsewhere.json", filepath.Join(dir, "pins.json"))
			return filepath.Join(dir, "pins.json"), filepath.Join(dir, "elsewhere.json")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path, target := c.setup(t, dir)
			before, err := os.Readlink(path)
			require.NoError(t, err)
			_, had := loadPins(t, path).Get(pinChannel, "pandas")

			s := loadPins(t, path)
			s.Set(pinChannel, "numpy", signer("1"))
			require.NoError(t, s.Save())

			fi, err := os.Lstat(path)
			require.NoError(t, err)
			require.NotZero(t, fi.Mode()&os.ModeSymlink, "the link was replaced by a regular file")
			after, err := os.Readlink(path)
			require.NoError(t, err)
			assert.Equal(t, before, after)
			want := map[string]policy.PinnedSigner{"numpy": signer("1")}
			if had {
				want["pandas"] = policy.PinnedSigner{Issuer: ghIssuer, RepositoryID: "9"}
			}
			assert.Equal(t, want, pinsIn(t, target), "the target holds the pins")
			assert.Equal(t, want, pinsIn(t, path))
			assert.FileExists(t, target+".lock", "the lock is beside the target, shared by every path to it")
		})
	}
}

// A loop of links made after the load fails the Save; a store without a
// file cannot save. Neither panics nor hangs.
func TestPinSaveRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	s := loadPins(t, path)
	s.Set(pinChannel, "numpy", signer("1"))
	symlink(t, "b.json", path)
	symlink(t, "a.json", filepath.Join(dir, "b.json"))
	err := s.Save()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "symbolic links")

	var zero policy.PinStore
	zero.Set(pinChannel, "numpy", signer("1"))
	require.Error(t, zero.Save())
}
