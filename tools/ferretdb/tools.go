//go:build tools

// Package tools pins the embedded store (FerretDB) so `go build` fetches exactly this version.
package tools

import _ "github.com/FerretDB/FerretDB/cmd/ferretdb"
