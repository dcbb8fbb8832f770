package grant

import "context"

// DeviceCode is the device authorization grant (RFC 8628): a person
// confirms a code on another device, for a terminal with no browser.
const DeviceCode = "device-code"

type deviceCode struct{ person }

func (deviceCode) Name() string              { return DeviceCode }
func (deviceCode) Help() string              { return "a code confirmed on another device" }
func (deviceCode) Validate(r *Request) error { return validatePerson(r) }
func (deviceCode) Obtain(context.Context, *Request, Deps) (*Issued, error) {
	return nil, errNoPerson(deviceCode{})
}
