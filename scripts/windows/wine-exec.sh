#!/usr/bin/env bash
# go test's -exec for windows/amd64 test binaries (scripts/windows-tests.sh):
# runs one under wine64 in the private prefix, in the package directory go
# test chose, with only the environment wine needs (wine passes the rest of
# the Unix environment on to Windows programs), and the path of the
# kubectl-securekapi.exe the exec path test runs.
exec env -i PATH=/usr/bin:/bin HOME="$HOME" LANG=C.UTF-8 WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all \
	${SECUREKAPI_TEST_WINDOWS_EXE:+SECUREKAPI_TEST_WINDOWS_EXE="$SECUREKAPI_TEST_WINDOWS_EXE"} \
	WINEDLLOVERRIDES="mscoree,mshtml=" /usr/lib/wine/wine64 "$@"
