//go:build tools

// Pins Pulumi's Node.js language host, built from the sdk/v3 module (see tools/versions.json).
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
