//go:build tools

// Pins the Pulumi CLI in go.mod/go.sum.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
