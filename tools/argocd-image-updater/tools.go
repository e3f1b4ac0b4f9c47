//go:build tools

// Pins Argo CD Image Updater's controller (package ./cmd) in go.mod/go.sum.
package tools

import _ "github.com/argoproj-labs/argocd-image-updater/cmd"
