package cmdutil

import (
	"github.com/securekapi/securekapi/pkg/credential/loginui"
)

// loginIO is the Factory's streams as a login shows them to a person.
func loginIO(f *Factory) loginui.IO {
	return loginui.IO{In: f.In, ErrOut: f.ErrOut, StdinTTY: f.StdinIsTTY, StderrTTY: f.StderrIsTTY}
}

// InteractiveLogin is the person's login a's flags choose, on the
// Factory's streams, clock and browser.
func InteractiveLogin(f *Factory, a *AccessFlags) *loginui.Login {
	return &loginui.Login{IO: loginIO(f), Getenv: f.Getenv, Now: f.Now, Browser: f.Browser,
		Grant: a.Grant, BrowserCommand: a.BrowserCmd, BindAddresses: a.BindAddresses, Timeout: a.LoginTimeout,
		RetryCommand: a.LoginCommand()}
}
