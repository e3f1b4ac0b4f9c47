//go:build tools

// Pins Argo CD's multi-call binary (package ./cmd) in go.mod/go.sum.
package tools

import _ "github.com/argoproj/argo-cd/v3/cmd"
