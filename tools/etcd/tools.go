//go:build tools

// Pins etcd (its main package is the server module root) in go.mod/go.sum.
package tools

import _ "go.etcd.io/etcd/server/v3"
