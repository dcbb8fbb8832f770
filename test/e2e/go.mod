module github.com/securekapi/securekapi/test/e2e

go 1.26.0

require golang.org/x/crypto v0.28.0

replace github.com/securekapi/securekapi => ../..
