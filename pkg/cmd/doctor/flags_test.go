package doctor

import (
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdDoctorFlags(t *testing.T) {
	var got *DoctorOptions
	cmd := newCmdDoctor(cmdtest.Factory(nil), func(o *DoctorOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "-o", "json", "--timeout", "3s", "--watch-time", "5s", "--quick"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "cluster-a" || got.Output != "json" || got.Timeout != 3*time.Second || got.WatchTime != 5*time.Second || !got.Quick {
		t.Errorf("options = %+v", got)
	}
}
