// Package secretservice reads one secret from the freedesktop Secret
// Service (gnome-keyring, KeePassXC) the way github.com/zalando/go-keyring's
// Get finds it, in two round trips over the D-Bus session bus instead of
// go-keyring's twelve.
//
// Why it exists: tokenstore reads the keyring on every kubectl call, and
// go-keyring's Get (through godbus) runs the SASL exchange one line at a
// time (4 round trips), then Hello, the Collections property, Unlock of the
// collection, SearchItems, OpenSession, Unlock of the item, GetSecret and
// Close (8 calls), each waiting for the last. Here the authentication, Hello,
// the Collections property, the two SearchItems go-keyring may use and
// OpenSession go out in one write, and GetSecret in a second.
//
// It reads what go-keyring wrote, in the same place: go-keyring files an
// entry as an item with the attributes {"username": user, "service":
// service} in the "login" collection when the service lists one, else in
// the default collection, and reads the first match there. So does Get.
// It only reads: go-keyring stays the writer, and the reader whenever this
// package cannot answer by itself: a locked item (go-keyring unlocks, with
// a prompt), an address it does not dial, an unexpected reply. Every such
// case is an error other than ErrNotFound, which tokenstore answers by
// asking go-keyring.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package secretservice

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound means the collection go-keyring uses holds no item for the
// service and user.
var ErrNotFound = errors.New("secret not found in the Secret Service")

// ErrLocked means the collection is locked: go-keyring asks for the unlock.
var ErrLocked = errors.New("the Secret Service collection is locked")

const (
	busName        = "org.freedesktop.DBus"
	serviceName    = "org.freedesktop.secrets"
	servicePath    = "/org/freedesktop/secrets"
	serviceIface   = "org.freedesktop.Secret.Service"
	collectionIfc  = "org.freedesktop.Secret.Collection"
	itemIface      = "org.freedesktop.Secret.Item"
	loginPath      = "/org/freedesktop/secrets/collection/login"
	defaultAlias   = "/org/freedesktop/secrets/aliases/default"
	propertiesIfc  = "org.freedesktop.DBus.Properties"
	collectionsKey = "Collections"
)

// Bus says how to reach the session bus: what godbus reads to find it.
type Bus struct {
	Address string // $DBUS_SESSION_BUS_ADDRESS
	UID     int    // for EXTERNAL authentication and /run/user/UID/bus
	Timeout time.Duration
}

// Get returns the secret go-keyring's Get(service, user) returns.
func Get(bus Bus, service, user string) (string, error) {
	addr, err := bus.dialAddress()
	if err != nil {
		return "", err
	}
	conn, err := net.DialUnix("unix", nil, addr)
	if err != nil {
		return "", fmt.Errorf("connect to the D-Bus session bus: %w", err)
	}
	defer conn.Close()
	if bus.Timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(bus.Timeout))
	}
	return get(conn, bus.UID, service, user)
}

// dialAddress is the first unix socket in the bus address, as godbus finds
// the session bus (minus launching one).
func (b Bus) dialAddress() (*net.UnixAddr, error) {
	address := b.Address
	if address == "" || address == "autolaunch:" {
		p := fmt.Sprintf("/run/user/%d/bus", b.UID)
		if _, err := os.Stat(p); err != nil {
			return nil, errors.New("no D-Bus session bus address")
		}
		return &net.UnixAddr{Name: p, Net: "unix"}, nil
	}
	for _, a := range strings.Split(address, ";") {
		rest, ok := strings.CutPrefix(a, "unix:")
		if !ok {
			continue
		}
		var path, abstract string
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v, err := unescape(v)
			if err != nil {
				return nil, err
			}
			switch k {
			case "path":
				path = v
			case "abstract":
				abstract = v
			}
		}
		switch {
		case path != "" && abstract == "":
			return &net.UnixAddr{Name: path, Net: "unix"}, nil
		case abstract != "" && path == "":
			return &net.UnixAddr{Name: "@" + abstract, Net: "unix"}, nil
		}
	}
	return nil, fmt.Errorf("no unix socket in the D-Bus address %q", address)
}

// unescape undoes D-Bus address value escaping (%XX).
func unescape(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", errors.New("bad escape in the D-Bus address")
		}
		n, err := strconv.ParseUint(v[i+1:i+3], 16, 8)
		if err != nil {
			return "", errors.New("bad escape in the D-Bus address")
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}

// Serials of the first round's calls.
const (
	serialHello uint32 = iota + 1
	serialNameOwner
	serialCollections
	serialSearchLogin
	serialSearchDefault
	serialOpenSession
	serialLockedLogin
	serialLockedDefault
	serialGetSecret
)

func get(conn io.ReadWriter, uid int, service, user string) (string, error) {
	attrs := [][2]string{{"username", user}, {"service", service}}
	// SASL EXTERNAL with the uid, then BEGIN, then the messages: the bus
	// reads them after the authentication succeeds (libdbus and sd-bus
	// both accept a client that does not wait for OK).
	var out []byte
	out = append(out, 0)
	out = append(out, "AUTH EXTERNAL "+hexString(strconv.Itoa(uid))+"\r\nBEGIN\r\n"...)
	out = append(out, methodCall(serialHello, busName, "/org/freedesktop/DBus", busName, "Hello", "", nil)...)
	// Who owns the Secret Service's name: only its replies are taken. The
	// session bus delivers a reply that names our serial from any peer, so
	// a reply is matched by serial and sender (which the bus sets).
	out = append(out, methodCall(serialNameOwner, busName, "/org/freedesktop/DBus", busName, "GetNameOwner", "s", func(e *encoder) {
		e.string(serviceName)
	})...)
	out = append(out, methodCall(serialCollections, serviceName, servicePath, propertiesIfc, "Get", "ss", func(e *encoder) {
		e.string(serviceIface)
		e.string(collectionsKey)
	})...)
	search := func(e *encoder) { e.stringDict(attrs) }
	out = append(out, methodCall(serialSearchLogin, serviceName, loginPath, collectionIfc, "SearchItems", "a{ss}", search)...)
	out = append(out, methodCall(serialSearchDefault, serviceName, defaultAlias, collectionIfc, "SearchItems", "a{ss}", search)...)
	out = append(out, methodCall(serialOpenSession, serviceName, servicePath, serviceIface, "OpenSession", "sv", func(e *encoder) {
		e.string("plain")
		e.variantString("")
	})...)
	locked := func(e *encoder) {
		e.string(collectionIfc)
		e.string("Locked")
	}
	out = append(out, methodCall(serialLockedLogin, serviceName, loginPath, propertiesIfc, "Get", "ss", locked)...)
	out = append(out, methodCall(serialLockedDefault, serviceName, defaultAlias, propertiesIfc, "Get", "ss", locked)...)
	if _, err := conn.Write(out); err != nil {
		return "", fmt.Errorf("write to the D-Bus session bus: %w", err)
	}
	r := &reader{r: conn}
	if err := r.authOK(); err != nil {
		return "", err
	}
	replies, err := r.replies(serialHello, serialGetSecret)
	if err != nil {
		return "", err
	}
	for _, s := range []uint32{serialHello, serialNameOwner, serialCollections, serialOpenSession} {
		if m := replies[s]; m.kind == msgError {
			return "", fmt.Errorf("Secret Service: %s", m.errorName)
		}
	}
	// go-keyring's GetLoginCollection: "login" if the service lists it,
	// else the default alias.
	paths, err := replies[serialCollections].variantObjectPaths()
	if err != nil {
		return "", err
	}
	chosen, lockedReply := replies[serialSearchDefault], replies[serialLockedDefault]
	for _, p := range paths {
		if p == loginPath {
			chosen, lockedReply = replies[serialSearchLogin], replies[serialLockedLogin]
		}
	}
	if chosen.kind == msgError {
		return "", fmt.Errorf("Secret Service SearchItems: %s", chosen.errorName)
	}
	// go-keyring unlocks the collection before it searches, with a prompt
	// if it is locked; that, and what it finds then, is go-keyring's to do.
	if lockedReply.kind == msgError {
		return "", fmt.Errorf("Secret Service Locked property: %s", lockedReply.errorName)
	}
	if isLocked, err := lockedReply.variantBool(); err != nil || isLocked {
		return "", errors.Join(ErrLocked, err)
	}
	items, err := chosen.objectPaths()
	if err != nil {
		return "", err
	}
	if len(items) == 0 {
		return "", ErrNotFound
	}
	session, err := replies[serialOpenSession].openSessionPath()
	if err != nil {
		return "", err
	}
	// go-keyring reads the first match. A locked item fails here (IsLocked),
	// and go-keyring, which can prompt, takes over.
	call := methodCall(serialGetSecret, serviceName, items[0], itemIface, "GetSecret", "o", func(e *encoder) { e.objectPath(session) })
	if _, err := conn.Write(call); err != nil {
		return "", fmt.Errorf("write to the D-Bus session bus: %w", err)
	}
	last, err := r.replies(serialGetSecret, serialGetSecret+1)
	if err != nil {
		return "", err
	}
	m := last[serialGetSecret]
	if m.kind == msgError {
		return "", fmt.Errorf("Secret Service GetSecret: %s", m.errorName)
	}
	return m.secretValue()
}

// maxStrayMessages bounds the messages read while waiting for replies:
// signals, and replies from peers other than the bus and the service.
const maxStrayMessages = 64

// replies reads until each serial in [from, to) has its reply: from the bus
// for Hello and GetNameOwner, from the Secret Service's owner (or an error
// from the bus, such as ServiceUnknown) for the rest. Anything else is
// stray: any peer on the session bus can send us a reply naming one of our
// serials, and the bus delivers it.
func (r *reader) replies(from, to uint32) (map[uint32]*message, error) {
	got := map[uint32]*message{}
	for stray := 0; len(got) < int(to-from); {
		m, err := r.message()
		if err != nil {
			return nil, err
		}
		if m.replySerial < from || m.replySerial >= to || (m.kind != msgReturn && m.kind != msgError) || got[m.replySerial] != nil || !r.trusted(m) {
			if stray++; stray > maxStrayMessages {
				return nil, errors.New("Secret Service: too many unexpected D-Bus messages")
			}
			continue
		}
		got[m.replySerial] = m
		if m.replySerial == serialNameOwner && m.kind == msgReturn {
			d, err := m.decoder("s")
			if err != nil {
				return nil, err
			}
			if r.serviceOwner, _ = d.string(); !strings.HasPrefix(r.serviceOwner, ":") {
				return nil, fmt.Errorf("Secret Service: its owner %q is not a connection name", r.serviceOwner)
			}
		}
	}
	return got, nil
}

// trusted: m comes from whom it must. The bus answers its own calls, and
// replies to its own calls come in order on one connection, so the
// GetNameOwner answer is read before any reply of the service.
func (r *reader) trusted(m *message) bool {
	if m.replySerial == serialHello || m.replySerial == serialNameOwner || (m.kind == msgError && m.sender == busName) {
		return m.sender == busName
	}
	return r.serviceOwner != "" && m.sender == r.serviceOwner
}

func hexString(s string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(b)
}
