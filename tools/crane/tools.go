//go:build tools

// Pins crane (the registry client the end-to-end suite pushes test images with) in go.mod/go.sum.
package tools

import _ "github.com/google/go-containerregistry/cmd/crane"
