package secretservice

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The D-Bus wire format, as far as Get needs it: method calls with string,
// object path, string dict and variant string arguments out; replies whose
// bodies are a string, an object path array, a variant, or the Secret struct
// back. Everything else a reply may carry is skipped or refused.

const (
	msgCall   = 1
	msgReturn = 2
	msgError  = 3

	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSender      = 7
	fieldSignature   = 8

	// maxMessage bounds what a reply may make us read: D-Bus allows 128
	// MiB; a token set is a few KB.
	maxMessage = 8 << 20
)

var errMalformed = errors.New("malformed D-Bus reply from the session bus")

// encoder writes little-endian D-Bus values. Offsets are from the start of
// the message, which is what D-Bus alignment is relative to.
type encoder struct{ b []byte }

func (e *encoder) align(n int) {
	for len(e.b)%n != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) uint32(v uint32) {
	e.align(4)
	e.b = binary.LittleEndian.AppendUint32(e.b, v)
}

func (e *encoder) string(s string) {
	e.uint32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

func (e *encoder) objectPath(p string) { e.string(p) }

func (e *encoder) signature(s string) {
	e.b = append(e.b, byte(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

func (e *encoder) variantString(s string) {
	e.signature("s")
	e.string(s)
}

// stringDict writes an a{ss}.
func (e *encoder) stringDict(kv [][2]string) {
	e.align(4)
	at := len(e.b)
	e.b = append(e.b, 0, 0, 0, 0)
	e.align(8)
	start := len(e.b)
	for _, p := range kv {
		e.align(8)
		e.string(p[0])
		e.string(p[1])
	}
	binary.LittleEndian.PutUint32(e.b[at:], uint32(len(e.b)-start))
}

// methodCall is one METHOD_CALL message with the body body writes, whose
// signature is sig.
func methodCall(serial uint32, dest, path, iface, member, sig string, body func(*encoder)) []byte {
	var b encoder
	if body != nil {
		body(&b)
	}
	h := encoder{b: []byte{'l', msgCall, 0, 1}}
	h.uint32(uint32(len(b.b)))
	h.uint32(serial)
	at := len(h.b)
	h.b = append(h.b, 0, 0, 0, 0)
	start := len(h.b) // 16: already 8-aligned
	field := func(code byte, typ, v string) {
		h.align(8)
		h.b = append(h.b, code)
		h.signature(typ)
		if typ == "g" {
			h.signature(v)
		} else {
			h.string(v)
		}
	}
	field(fieldPath, "o", path)
	field(fieldInterface, "s", iface)
	field(fieldMember, "s", member)
	field(fieldDestination, "s", dest)
	if sig != "" {
		field(fieldSignature, "g", sig)
	}
	binary.LittleEndian.PutUint32(h.b[at:], uint32(len(h.b)-start))
	h.align(8)
	return append(h.b, b.b...)
}

// reader reads the bus's answers: the SASL reply line, then messages.
type reader struct {
	r  io.Reader
	br *bufio.Reader
	// serviceOwner is the Secret Service's connection name, once the bus
	// said it (GetNameOwner).
	serviceOwner string
}

func (r *reader) authOK() error {
	r.br = bufio.NewReaderSize(r.r, 4096)
	line, err := r.br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("D-Bus authentication: %w", err)
	}
	if !strings.HasPrefix(line, "OK ") {
		return fmt.Errorf("D-Bus authentication refused (%s)", strings.TrimSpace(line))
	}
	return nil
}

type message struct {
	kind        byte
	replySerial uint32
	errorName   string
	signature   string
	sender      string // set by the bus; a peer cannot choose it
	body        []byte
	order       binary.ByteOrder
}

func (r *reader) message() (*message, error) {
	var fixed [16]byte
	if _, err := io.ReadFull(r.br, fixed[:]); err != nil {
		return nil, fmt.Errorf("read from the D-Bus session bus: %w", err)
	}
	m := &message{kind: fixed[1]}
	switch fixed[0] {
	case 'l':
		m.order = binary.LittleEndian
	case 'B':
		m.order = binary.BigEndian
	default:
		return nil, errMalformed
	}
	bodyLen := m.order.Uint32(fixed[4:])
	fieldsLen := m.order.Uint32(fixed[12:])
	if bodyLen > maxMessage || fieldsLen > maxMessage {
		return nil, errMalformed
	}
	headerLen := 16 + int(fieldsLen)
	padded := (headerLen + 7) &^ 7
	rest := make([]byte, padded-16+int(bodyLen))
	if _, err := io.ReadFull(r.br, rest); err != nil {
		return nil, fmt.Errorf("read from the D-Bus session bus: %w", err)
	}
	// Decode the fields with offsets relative to the message start.
	d := decoder{b: append(fixed[:], rest[:headerLen-16]...), off: 16, order: m.order}
	for d.off < headerLen {
		if !d.align(8) {
			return nil, errMalformed
		}
		code, ok := d.byte()
		if !ok {
			return nil, errMalformed
		}
		sig, ok := d.signature()
		if !ok {
			return nil, errMalformed
		}
		switch sig {
		case "s", "o":
			v, ok := d.string()
			if !ok {
				return nil, errMalformed
			}
			switch code {
			case fieldErrorName:
				m.errorName = v
			case fieldSender:
				m.sender = v
			}
		case "g":
			v, ok := d.signature()
			if !ok {
				return nil, errMalformed
			}
			if code == fieldSignature {
				m.signature = v
			}
		case "u":
			v, ok := d.uint32()
			if !ok {
				return nil, errMalformed
			}
			if code == fieldReplySerial {
				m.replySerial = v
			}
		default:
			return nil, errMalformed
		}
	}
	m.body = rest[padded-16:]
	return m, nil
}

func (m *message) decoder(sig string) (*decoder, error) {
	if m.signature != sig {
		return nil, fmt.Errorf("D-Bus reply has signature %q, want %q", m.signature, sig)
	}
	return &decoder{b: m.body, order: m.order}, nil
}

// variantObjectPaths reads a Properties.Get reply holding an ao.
func (m *message) variantObjectPaths() ([]string, error) {
	d, err := m.decoder("v")
	if err != nil {
		return nil, err
	}
	if sig, ok := d.signature(); !ok || sig != "ao" {
		return nil, errMalformed
	}
	return d.objectPaths()
}

// variantBool reads a Properties.Get reply holding a b.
func (m *message) variantBool() (bool, error) {
	d, err := m.decoder("v")
	if err != nil {
		return false, err
	}
	if sig, ok := d.signature(); !ok || sig != "b" {
		return false, errMalformed
	}
	v, ok := d.uint32()
	if !ok || v > 1 {
		return false, errMalformed
	}
	return v == 1, nil
}

// objectPaths reads a reply holding an ao.
func (m *message) objectPaths() ([]string, error) {
	d, err := m.decoder("ao")
	if err != nil {
		return nil, err
	}
	return d.objectPaths()
}

// openSessionPath reads OpenSession's (v output, o result).
func (m *message) openSessionPath() (string, error) {
	d, err := m.decoder("vo")
	if err != nil {
		return "", err
	}
	if sig, ok := d.signature(); !ok || sig != "s" {
		return "", errMalformed
	}
	if _, ok := d.string(); !ok {
		return "", errMalformed
	}
	p, ok := d.string()
	if !ok {
		return "", errMalformed
	}
	return p, nil
}

// secretValue reads GetSecret's Secret struct (session, parameters, value,
// content type) and returns the value.
func (m *message) secretValue() (string, error) {
	d, err := m.decoder("(oayays)")
	if err != nil {
		return "", err
	}
	if !d.align(8) {
		return "", errMalformed
	}
	if _, ok := d.string(); !ok {
		return "", errMalformed
	}
	if params, ok := d.bytes(); !ok || len(params) != 0 {
		return "", errMalformed // a "plain" session has no parameters
	}
	v, ok := d.bytes()
	if !ok {
		return "", errMalformed
	}
	return string(v), nil
}

type decoder struct {
	b     []byte
	off   int
	order binary.ByteOrder
}

func (d *decoder) align(n int) bool {
	next := (d.off + n - 1) &^ (n - 1)
	if next > len(d.b) {
		return false
	}
	d.off = next
	return true
}

func (d *decoder) byte() (byte, bool) {
	if d.off >= len(d.b) {
		return 0, false
	}
	d.off++
	return d.b[d.off-1], true
}

func (d *decoder) uint32() (uint32, bool) {
	if !d.align(4) || len(d.b)-d.off < 4 {
		return 0, false
	}
	d.off += 4
	return d.order.Uint32(d.b[d.off-4:]), true
}

// string reads an s or o.
func (d *decoder) string() (string, bool) {
	n, ok := d.uint32()
	if !ok || uint64(len(d.b)-d.off) < uint64(n)+1 || d.b[d.off+int(n)] != 0 {
		return "", false
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n) + 1
	return s, true
}

func (d *decoder) signature() (string, bool) {
	n, ok := d.byte()
	if !ok || len(d.b)-d.off < int(n)+1 || d.b[d.off+int(n)] != 0 {
		return "", false
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n) + 1
	return s, true
}

// bytes reads an ay.
func (d *decoder) bytes() ([]byte, bool) {
	n, ok := d.uint32()
	if !ok || uint64(len(d.b)-d.off) < uint64(n) {
		return nil, false
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return v, true
}

// objectPaths reads an ao.
func (d *decoder) objectPaths() ([]string, error) {
	n, ok := d.uint32()
	if !ok || uint64(len(d.b)-d.off) < uint64(n) {
		return nil, errMalformed
	}
	end := d.off + int(n)
	var out []string
	for d.off < end {
		p, ok := d.string()
		if !ok || d.off > end {
			return nil, errMalformed
		}
		out = append(out, p)
	}
	return out, nil
}
