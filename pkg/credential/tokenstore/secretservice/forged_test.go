//go:build unix && !darwin

package secretservice

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"
)

// forgedSecret is the Secret Service's (oayays) secret struct.
type forgedSecret struct {
	Session     dbus.ObjectPath
	Params      []byte
	Value       []byte
	ContentType string
}

const attackerValue = "ATTACKER-CHOSEN TOKEN SET"

// forgeReplies sends dest a reply for every serial Get uses, shaped as the
// bus and the Secret Service would answer, ending in a GetSecret reply
// carrying the attacker's value.
func forgeReplies(attacker *dbus.Conn, dest string) {
	item := dbus.ObjectPath(loginPath + "/1")
	bodies := map[uint32][]any{
		serialHello:         {":1.999"},
		serialNameOwner:     {attacker.Names()[0]},
		serialCollections:   {dbus.MakeVariant([]dbus.ObjectPath{loginPath})},
		serialSearchLogin:   {[]dbus.ObjectPath{item}},
		serialSearchDefault: {[]dbus.ObjectPath{item}},
		serialOpenSession:   {dbus.MakeVariant(""), dbus.ObjectPath("/org/freedesktop/secrets/session/s1")},
		serialLockedLogin:   {dbus.MakeVariant(false)},
		serialLockedDefault: {dbus.MakeVariant(false)},
		serialGetSecret:     {forgedSecret{Session: "/s", Params: []byte{}, Value: []byte(attackerValue), ContentType: "text/plain"}},
	}
	for serial, body := range bodies {
		attacker.Send(&dbus.Message{Type: dbus.TypeMethodReply, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant(dest),
			dbus.FieldReplySerial: dbus.MakeVariant(serial),
			dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf(body...)),
		}, Body: body}, nil)
	}
}

// TestForgedRepliesFromAnotherPeerAreIgnored: another connection on the
// session bus watches for new connections and sprays each with replies
// naming Get's serials (the stock dbus-daemon session policy delivers
// them). Get must still return what the Secret Service holds, or fail;
// never the attacker's value.
func TestForgedRepliesFromAnotherPeerAreIgnored(t *testing.T) {
	b := bus(t)
	service := fmt.Sprintf("securekapi-forged-%d", os.Getpid())
	if err := gokeyring.Set(service, "alice", "the real entry"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gokeyring.Delete(service, "alice") })
	attacker, err := dbus.Connect(privateBus)
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	if err := attacker.AddMatchSignal(dbus.WithMatchInterface(busName), dbus.WithMatchMember("NameOwnerChanged")); err != nil {
		t.Fatal(err)
	}
	signals := make(chan *dbus.Signal, 256)
	attacker.Signal(signals)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for s := range signals {
			if len(s.Body) != 3 {
				continue
			}
			name, _ := s.Body[0].(string)
			owner, _ := s.Body[2].(string)
			if strings.HasPrefix(name, ":") && owner != "" {
				for range 3 {
					forgeReplies(attacker, name)
				}
			}
		}
	}()
	for i := range 30 {
		v, err := Get(b, service, "alice")
		if v == attackerValue {
			t.Fatalf("run %d: Get returned the forged secret", i)
		}
		if err == nil && v != "the real entry" {
			t.Fatalf("run %d: Get = %q", i, v)
		}
	}
	attacker.RemoveSignal(signals)
	close(signals)
	wg.Wait()
}
