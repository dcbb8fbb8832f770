package pinning

import (
	"errors"
	"strings"
)

// DER tags of the X.509 fields walked here.
const (
	tagInteger   = 0x02
	tagOID       = 0x06
	tagSequence  = 0x30
	tagSet       = 0x31
	tagVersion   = 0xa0 // [0] EXPLICIT, constructed
	tagUTF8      = 0x0c
	tagNumeric   = 0x12
	tagPrintable = 0x13
	tagT61       = 0x14
	tagIA5       = 0x16
)

var errMalformed = errors.New("malformed certificate DER")

// der is a strict DER reader, with crypto/x509's (cryptobyte's) rules:
// definite, minimal lengths; low tag numbers only.
type der []byte

// read reads one element with the given tag, returning its contents and,
// in full, the whole element.
func (d *der) read(tag byte) (contents, full der, ok bool) {
	b := *d
	if len(b) < 2 || b[0] != tag || tag&0x1f == 0x1f {
		return nil, nil, false
	}
	n, header := int(b[1]), 2
	if n&0x80 != 0 {
		size := n & 0x7f
		// 1 to 4 length bytes, no leading zero, and the long form only
		// where the short one cannot say it.
		if size == 0 || size > 4 || len(b) < 2+size || b[2] == 0 {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+size] {
			n = n<<8 | int(c)
		}
		if n < 0x80 || n > len(b) {
			return nil, nil, false
		}
		header += size
	}
	if len(b)-header < n {
		return nil, nil, false
	}
	*d = b[header+n:]
	return b[header : header+n], b[:header+n], true
}

// skipOptional skips an element with tag if it comes next.
func (d *der) skipOptional(tag byte) bool {
	if len(*d) > 0 && (*d)[0] == tag {
		_, _, ok := d.read(tag)
		return ok
	}
	return true
}

// certificateFields returns a certificate's DER SubjectPublicKeyInfo and
// its subject name, walking the fields in crypto/x509's parseCertificate
// order: Certificate SEQUENCE (nothing after it), TBSCertificate SEQUENCE,
// optional [0] version, serial INTEGER, signature AlgorithmIdentifier,
// issuer, validity, subject, subjectPublicKeyInfo.
func certificateFields(raw []byte) (spki []byte, subject string, err error) {
	input := der(raw)
	cert, _, ok := input.read(tagSequence)
	if !ok || len(input) != 0 {
		return nil, "", errMalformed
	}
	tbs, _, ok := cert.read(tagSequence)
	if !ok || !tbs.skipOptional(tagVersion) {
		return nil, "", errMalformed
	}
	var subj, key der
	ok = ok && skip(&tbs, tagInteger) && skip(&tbs, tagSequence) && skip(&tbs, tagSequence) && skip(&tbs, tagSequence)
	if ok {
		subj, _, ok = tbs.read(tagSequence)
	}
	if ok {
		_, key, ok = tbs.read(tagSequence)
	}
	if !ok {
		return nil, "", errMalformed
	}
	return key, subjectString(subj), nil
}

func skip(d *der, tag byte) bool {
	_, _, ok := d.read(tag)
	return ok
}

// standardAttributes are the name attributes pkix.Name keeps in fields,
// in the order pkix.Name.ToRDNSequence writes them, by the last arc of
// their OID (2.5.4.x).
var standardAttributes = []struct {
	arc  byte
	name string
}{{6, "C"}, {8, "ST"}, {7, "L"}, {9, "STREET"}, {17, "POSTALCODE"}, {10, "O"}, {11, "OU"}, {3, "CN"}, {5, "SERIALNUMBER"}}

// subjectString writes the standard attributes of an RDNSequence as
// pkix.Name.String does: grouped by attribute in ToRDNSequence's order, one
// multi-valued RDN per attribute, last RDN first, RFC 2253 escaping. An
// unreadable name is "" (it only labels a certificate in a message).
func subjectString(rdns der) string {
	values := map[byte][]string{}
	for len(rdns) > 0 {
		set, _, ok := rdns.read(tagSet)
		if !ok {
			return ""
		}
		for len(set) > 0 {
			atv, _, ok := set.read(tagSequence)
			if !ok {
				return ""
			}
			oid, _, ok := atv.read(tagOID)
			if !ok {
				return ""
			}
			if len(oid) != 3 || oid[0] != 0x55 || oid[1] != 0x04 || len(atv) < 2 {
				continue // not 2.5.4.x
			}
			switch atv[0] {
			case tagUTF8, tagNumeric, tagPrintable, tagT61, tagIA5:
			default:
				continue // pkix.Name keeps string values only
			}
			v, _, ok := atv.read(atv[0])
			if !ok {
				return ""
			}
			if oid[2] == 3 || oid[2] == 5 { // pkix.Name keeps one CommonName, one SerialNumber: the last
				values[oid[2]] = nil
				if len(v) == 0 {
					continue
				}
			}
			values[oid[2]] = append(values[oid[2]], string(v))
		}
	}
	var rdnStrings []string
	for _, a := range standardAttributes {
		if len(values[a.arc]) == 0 {
			continue
		}
		parts := make([]string, len(values[a.arc]))
		for i, v := range values[a.arc] {
			parts[i] = a.name + "=" + escapeDN(v)
		}
		rdnStrings = append(rdnStrings, strings.Join(parts, "+"))
	}
	for i, j := 0, len(rdnStrings)-1; i < j; i, j = i+1, j-1 {
		rdnStrings[i], rdnStrings[j] = rdnStrings[j], rdnStrings[i]
	}
	return strings.Join(rdnStrings, ",")
}

// escapeDN escapes a value as pkix.RDNSequence.String does.
func escapeDN(v string) string {
	var b strings.Builder
	for k, c := range v {
		escape := false
		switch c {
		case ',', '+', '"', '\\', '<', '>', ';':
			escape = true
		case ' ':
			escape = k == 0 || k == len(v)-1
		case '#':
			escape = k == 0
		}
		if escape {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
