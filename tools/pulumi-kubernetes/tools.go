//go:build tools

// Pins the packages the provider's main.go imports. The main package itself is built by
// tools/build.mjs from a scratch copy, because its embedded schema files are not in the module.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)
