package kubeconfig

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

// helperEnv makes the test binary act as a child process for the tests that
// need real concurrent processes or a writer killed mid-write.
const helperEnv = "KUBECONFIG_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "add-context":
		os.Exit(helperAddContext(os.Getenv("HELPER_CONTEXT")))
	case "write-loop":
		os.Exit(helperWriteLoop(os.Getenv("HELPER_TARGET")))
	case "hold-lock":
		os.Exit(helperHoldLock())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helperAddContext adds one context to the files in $KUBECONFIG.
func helperAddContext(name string) int {
	s := &Store{LockTimeout: time.Minute}
	_, err := s.Modify(func(cfg *api.Config) error {
		SetContext(cfg, name, "shared", "shared", "")
		return nil
	}, ModifyOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperHoldLock takes the lock on $KUBECONFIG, says "locked" and waits
// to be killed or signalled.
func helperHoldLock() int {
	s := &Store{LockTimeout: time.Minute}
	_, err := s.Modify(func(cfg *api.Config) error {
		fmt.Println("locked")
		time.Sleep(time.Minute)
		return nil
	}, ModifyOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperWriteLoop rewrites target with two large kubeconfigs in turn until
// killed, saying "ready" once the first write is in place.
func helperWriteLoop(target string) int {
	versions := [][]byte{bigConfig("a"), bigConfig("b")}
	for i := 0; ; i++ {
		if err := atomicfile.Write(target, versions[i%2], 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
}

// bigConfig is a valid kubeconfig of a few MB, so a write takes a while.
func bigConfig(tag string) []byte {
	var sb strings.Builder
	sb.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	ca := strings.Repeat("Q0FEQVRB", 1024)
	for i := range 400 {
		fmt.Fprintf(&sb, "- name: %s-%d\n  cluster:\n    server: https://%s-%d\n    certificate-authority-data: %s\n", tag, i, tag, i, ca)
	}
	return []byte(sb.String())
}
