package kubeconfig

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A writer killed at a random point leaves the target whole: one version or
// the other, never a mix.
func TestKubeconfigWriteSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	target := filepath.Join(t.TempDir(), "config")
	versions := [][]byte{bigConfig("a"), bigConfig("b")}
	midWrite := 0
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=write-loop", "HELPER_TARGET="+target)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
			cmd.Process.Kill()
			t.Fatalf("child did not start writing: %q", line)
		}
		time.Sleep(time.Duration(20+round*37) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		got := readBytes(t, target)
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Fatalf("round %d: target is neither version (%d bytes)", round, len(got))
		}
		loadFile(t, target)
		// A temp file left behind means the kill landed mid-write.
		temps, _ := filepath.Glob(filepath.Join(filepath.Dir(target), ".config.tmp-*"))
		midWrite += len(temps)
		for _, tmp := range temps {
			os.Remove(tmp)
		}
	}
	t.Logf("%d of 5 kills landed mid-write", midWrite)
}
