//go:build tools

// Pins Pulumi's Node.js language host (its own untagged module) in go.mod/go.sum.
package tools

import _ "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
